import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { functionArn } from './cloudformation';
import { iamActionOf, type Recorder } from './recorder';
import { forward, forwardingAgent, listen, type Running, readBody } from './servers';
import { userAgentAppId } from './tap';

const FUNCTION_ARN =
  /^(?:arn:aws[a-z-]*:lambda:([a-z0-9-]+):)?(?:(\d{12}):)?function:([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9_$-]{1,128}))?$/;
const NAME_WITH_QUALIFIER = /^([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9_$-]{1,128}))?$/;

export interface ParsedFunctionRef {
  name: string;
  qualifier?: string;
  region?: string;
  accountId?: string;
}

/**
 * Every form Lambda's Invoke accepts for FunctionName: `name`, `name:qualifier`,
 * `123456789012:function:name[:qualifier]` (partial ARN), `function:name[:qualifier]`, and
 * `arn:aws:lambda:<region>:<account>:function:name[:qualifier]`.
 */
export function parseFunctionRef(reference: string): ParsedFunctionRef | undefined {
  const arn = FUNCTION_ARN.exec(reference);
  if (arn) {
    const [, region, accountId, name, qualifier] = arn;
    return {
      name: name as string,
      ...(qualifier ? { qualifier } : {}),
      ...(region ? { region } : {}),
      ...(accountId ? { accountId } : {}),
    };
  }
  const bare = NAME_WITH_QUALIFIER.exec(reference);
  if (!bare) return undefined;
  return { name: bare[1] as string, ...(bare[2] ? { qualifier: bare[2] } : {}) };
}

/**
 * The local function a reference names, if it is one of this service's: by its deployed name,
 * whatever region, account or qualifier the reference carries (there is one local version of
 * each function, standing for every region, account, version and alias it is deployed as).
 */
export function resolveLocalFunction(reference: string, names: ReadonlySet<string>): string | undefined {
  const parsed = parseFunctionRef(reference);
  return parsed && names.has(parsed.name) ? parsed.name : undefined;
}

/** /2015-03-31/functions/{FunctionName}/invocations and /2014-11-13/functions/{FunctionName}/invoke-async/ */
const INVOKE_PATH = /^(\/[0-9-]+\/functions\/)([^/]+)(\/(invocations|invoke-async)\/?)(\?.*)?$/;

export interface LambdaFrontOptions {
  port: number;
  host: string;
  /** serverless-offline's own Lambda endpoint. */
  target: { host: string; port: number };
  functionNames: ReadonlySet<string>;
  region: string;
  accountId: string;
  recorder?: Recorder;
  /**
   * The most synchronous invocations of a function in flight at once (its deployed name -> cap),
   * as a reserved concurrency or the account's limit would allow; one more is answered as Lambda
   * answers a throttle: HTTP 429 TooManyRequestsException. Absent: no cap.
   */
  concurrency?: (functionName: string) => number | undefined;
}

/** Lambda's limit on a synchronous invocation's response: 6 MB (6,291,556 bytes). */
export const MAX_SYNC_RESPONSE_BYTES = 6_291_556;

/**
 * What Lambda answers for a function whose result is over MAX_SYNC_RESPONSE_BYTES: a function
 * error, not the result, so nobody parses megabytes it would never have been given.
 */
export function responseTooLarge(res: ServerResponse, bytes: number): void {
  const body = JSON.stringify({
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${MAX_SYNC_RESPONSE_BYTES} bytes).`,
  });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amz-function-error': 'Unhandled',
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

/** What Lambda answers a synchronous invoke past the function's concurrency (the SDK throws TooManyRequestsException). */
export function throttled(res: ServerResponse, reason = 'ReservedFunctionConcurrentInvocationLimitExceeded'): void {
  const body = JSON.stringify({ Reason: reason, Type: 'User', message: 'Rate Exceeded.' });
  res.writeHead(429, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-errortype': 'TooManyRequestsException',
    'x-amzn-requestid': randomUUID(),
    'retry-after': '1',
  });
  res.end(body);
}

/**
 * Lambda's Invoke endpoint for the local functions: rewrites ARNs, partial ARNs and qualified
 * names of this service's functions to the plain names serverless-offline knows, then forwards
 * the request unchanged (streaming, keep-alive) to serverless-offline's endpoint. A request
 * from a web page (one with an `Origin`) is refused, 403.
 */
export async function startLambdaFront(options: LambdaFrontOptions): Promise<Running> {
  const agent = forwardingAgent();
  const inFlight = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Only browsers send an Origin: no web page may invoke the local functions (serverless-offline
    // answers its CORS for any), as none can on AWS, which needs a signature.
    if (req.headers.origin !== undefined) {
      req.resume();
      const body = JSON.stringify({ Type: 'User', message: 'Forbidden: no web page may invoke the local functions' });
      res.writeHead(403, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    const startedAt = Date.now();
    let path = req.url ?? '/';
    const match = INVOKE_PATH.exec(path);
    let invoked: string | undefined;
    let action = 'Invoke';
    let local: string | undefined;
    if (match) {
      const reference = decodeURIComponent(match[2] as string);
      local = resolveLocalFunction(reference, options.functionNames);
      const parsed = parseFunctionRef(reference);
      const qualifier =
        parsed?.qualifier ?? new URLSearchParams(match[5]?.slice(1) ?? '').get('Qualifier') ?? undefined;
      if (parsed) invoked = `${functionArn(options, parsed.name)}${qualifier ? `:${qualifier}` : ''}`;
      if (match[4] === 'invoke-async') action = 'InvokeAsync';
      if (local) path = `${match[1]}${encodeURIComponent(local)}${match[3]}${match[5] ?? ''}`;
    }
    // Lambda's concurrency: synchronous invokes only (an async invoke is queued, not throttled).
    const synchronous = action === 'Invoke' && req.headers['x-amz-invocation-type'] !== 'Event';
    const cap = local && synchronous ? options.concurrency?.(local) : undefined;
    let release = () => {};
    if (local && cap !== undefined) {
      const name = local;
      const running = inFlight.get(name) ?? 0;
      if (running >= cap) {
        req.resume();
        throttled(res);
        record(429, undefined, 'TooManyRequestsException');
        return;
      }
      inFlight.set(name, running + 1);
      let released = false;
      release = () => {
        if (released) return;
        released = true;
        inFlight.set(name, (inFlight.get(name) ?? 1) - 1);
      };
      res.once('close', release);
    }
    readBody(req).then(
      (body) =>
        forward(req, res, body, {
          agent,
          target: options.target,
          path,
          ...(synchronous
            ? {
                limit: {
                  bytes: MAX_SYNC_RESPONSE_BYTES,
                  instead: responseTooLarge,
                },
              }
            : {}),
          onAnswer: (answer) => {
            release();
            record(answer.statusCode ?? 502, answer.headers['x-amz-function-error']);
          },
          onFailure: (error) => {
            release();
            if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({ Type: 'Service', message: `serverless-offline is not answering: ${error.message}` }),
            );
          },
        }),
      // The caller went away while sending: nobody to answer.
      () => res.destroy(),
    );
    function record(status: number, functionError: string | string[] | undefined, error?: string) {
      if (!options.recorder || !match) return;
      const fn = userAgentAppId(req.headers);
      options.recorder.record({
        kind: 'request',
        at: startedAt,
        service: 'lambda',
        action,
        iamAction: iamActionOf('lambda', action),
        resources: invoked ? [invoked] : [],
        ...(fn ? { function: fn } : {}),
        status,
        ...(error ? { error } : typeof functionError === 'string' ? { error: functionError } : {}),
        durationMs: Date.now() - startedAt,
      });
    }
  });
  server.keepAliveTimeout = 65_000;
  server.on('close', () => agent.destroy());
  await listen(server, options.port, options.host);
  return { server, url: `http://${options.host}:${options.port}` };
}
