import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forward, forwardingAgent, listen, type Running, readBody } from './servers';
import { EXECUTE_API, forbiddenResponse, type VerifyOptions, verifySigV4 } from './sigv4';

/** How the local HTTP API authenticates callers: `none` (open, serverless-offline alone) or `iam` (SigV4, this front). */
export const API_AUTH_MODES = ['none', 'iam'] as const;
export type ApiAuth = (typeof API_AUTH_MODES)[number];

export function parseApiAuth(value: unknown): ApiAuth {
  const mode = value === undefined || value === '' ? 'none' : String(value);
  if (!(API_AUTH_MODES as readonly string[]).includes(mode)) {
    throw new Error(`apiAuth must be one of ${API_AUTH_MODES.join(', ')}, not '${mode}'`);
  }
  return mode as ApiAuth;
}

/** `--corsOrigins a,b` or a list: the origins whose web pages may call the API (none by default). */
export function parseCorsOrigins(value: unknown): string[] {
  const list = Array.isArray(value) ? value.map(String) : String(value ?? '').split(',');
  return list.map((origin) => origin.trim()).filter(Boolean);
}

/** What a request from a web page of an origin nobody listed gets (403): nothing it sends is acted on. */
export const FOREIGN_ORIGIN =
  'Forbidden: the local API answers no web page of another origin (sls offline start --corsOrigins lists those that may)';

/** API Gateway's largest request body (10 MB); the front reads no more of one, as serverless-offline. */
const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** What a listed origin may send in a preflighted request: the API's methods and the headers its clients sign. */
const CORS_ALLOW = {
  'access-control-allow-methods': 'GET,POST,DELETE',
  'access-control-allow-headers': 'authorization,content-type,x-amz-content-sha256,x-amz-date,x-amz-security-token',
  'access-control-max-age': '600',
};

export interface HttpFrontOptions {
  port: number;
  host: string;
  /** serverless-offline's own HTTP server. */
  target: { host: string; port: number };
  region: string;
  /** `iam`: every request needs a SigV4 signature of `credentials`; `none`: open. */
  auth: ApiAuth;
  /** The account of the caller's ARN in the request context. */
  accountId: string;
  /** The one key pair the API accepts: the credentials the plugin gives the functions. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The origins that get CORS headers; any other gets none, as from an HTTP API without CORS. */
  corsOrigins?: string[];
  /** Told about every refused request (method, path, why). */
  onRefused?: (method: string, path: string, reason: string) => void;
  /** For tests: the verifier's clock. */
  now?: () => number;
}

/**
 * The public port of the local HTTP API, in front of serverless-offline, for what it cannot do
 * itself:
 * - Bodies as API Gateway hands them on: the text sent (bodyAsSent).
 * - No web page of another origin: serverless-offline answers every preflight and reflects any
 *   `Origin` with credentials, so any web page could read and delete a developer's machines, and
 *   a page's simple requests (a POST of text/plain needs no preflight) would act even unread. The
 *   deployed API has no CORS and needs signatures; the open local one refuses (403) every request
 *   that carries an `Origin` not listed, which only browsers send. A listed origin gets CORS
 *   headers of its own (no credentials) and its preflights answered; serverless-offline's
 *   `access-control-*` headers are dropped. A preflight without an Origin gets 404, as a route
 *   the API does not have.
 * - With `auth: iam`, an `AWS_IAM` route: every request must carry a valid SigV4 signature
 *   (service execute-api, the stage's region) of the local credentials, else it is answered 403
 *   `{"message": ...}` and never reaches a function (serverless-offline refuses to start with an
 *   IAM authorizer).
 * What passes is forwarded unchanged (streaming, keep-alive) to serverless-offline.
 */
export async function startHttpFront(options: HttpFrontOptions): Promise<Running> {
  const agent = forwardingAgent();
  const verify: VerifyOptions = {
    region: options.region,
    service: EXECUTE_API,
    lookup: (accessKeyId) =>
      accessKeyId === options.credentials.accessKeyId
        ? { secretAccessKey: options.credentials.secretAccessKey }
        : undefined,
    ...(options.now ? { now: options.now } : {}),
  };
  const listed = new Set(options.corsOrigins ?? []);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    const cors: Record<string, string> = origin && listed.has(origin) ? { 'access-control-allow-origin': origin } : {};
    const answer = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, { ...headers, ...cors, vary: 'origin', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    };
    if (origin !== undefined && !cors['access-control-allow-origin']) {
      req.resume();
      options.onRefused?.(
        req.method ?? 'GET',
        (req.url ?? '/').split('?')[0] as string,
        `Origin ${origin} is not listed`,
      );
      return answer(403, { 'content-type': 'application/json' }, JSON.stringify({ message: FOREIGN_ORIGIN }));
    }
    readBody(req, API_GATEWAY_MAX_BODY_BYTES)
      .then(async (body) => {
        if (body === undefined) {
          return answer(
            413,
            { 'content-type': 'application/json' },
            JSON.stringify({ message: 'Request Entity Too Large' }),
          );
        }
        if (req.method === 'OPTIONS') {
          // Preflights are never signed: API Gateway answers them before any authorizer.
          if (origin !== undefined) return answer(204, CORS_ALLOW, '');
          return answer(404, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Not Found' }));
        }
        const verdict =
          options.auth === 'iam'
            ? await verifySigV4(
                { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
                verify,
              )
            : ({ ok: true } as const);
        if (!verdict.ok) {
          options.onRefused?.(req.method ?? 'GET', (req.url ?? '/').split('?')[0] as string, verdict.reason);
          const refusal = forbiddenResponse(verdict);
          return answer(refusal.status, refusal.headers, refusal.body);
        }
        // What API Gateway puts in an AWS_IAM route's request context, handed to serverless-offline
        // in the header it reads an authorizer context from; a caller's own copy never gets through.
        if ('accessKeyId' in verdict) {
          req.headers[AUTHORIZER_OVERRIDE] = JSON.stringify({
            iam: iamContext(verdict.accessKeyId, options.accountId),
          });
        } else delete req.headers[AUTHORIZER_OVERRIDE];
        const sent = bodyAsSent(req.headers['content-type'], body);
        if (sent !== body) req.headers['content-length'] = String(sent.length);
        forward(req, res, sent, {
          agent,
          target: options.target,
          headers: (headers) => ({
            ...Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('access-control-'))),
            ...cors,
          }),
          onFailure: (error) => {
            if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ message: `serverless-offline is not answering: ${error.message}` }));
          },
        });
      })
      // The caller went away while sending: nobody to answer.
      .catch(() => res.destroy());
  });
  server.keepAliveTimeout = 65_000;
  server.on('close', () => agent.destroy());
  await listen(server, options.port, options.host);
  return { server, url: `http://${options.host}:${options.port}` };
}

/** The media types whose bodies serverless-offline parses as JSON (none given: JSON). */
const PARSED_AS_JSON = ['application/json', 'application/vnd.api+json'];

/**
 * The body to send serverless-offline so that its function gets the text the caller sent, as
 * from API Gateway. serverless-offline parses a JSON body and hands on the raw text only when the
 * value is an object or array: a JSON string arrives unquoted, `null`, `false`, `0` and `""` as no
 * body at all, a number or `true` as that value, not text. So a body whose JSON is none of those
 * two is sent as a JSON string of itself, which serverless-offline's parse turns back into the
 * very text sent. Any other body goes as it is.
 */
export function bodyAsSent(contentType: string | undefined, body: Buffer): Buffer {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  // Objects and arrays (and text that only looks like one) pass as they are: no need to read a
  // whole machine. (Sent as a string, they would arrive as sent too.)
  if (!PARSED_AS_JSON.includes(type) || body.length === 0 || /^\s*[[{]/.test(body.subarray(0, 64).toString())) {
    return body;
  }
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    return body;
  }
  return Buffer.from(JSON.stringify(text));
}

/** serverless-offline's header for a request context's `authorizer` (its HTTP API v2 events). */
export const AUTHORIZER_OVERRIDE = 'sls-offline-authorizer-override';

/**
 * `requestContext.authorizer.iam` of an HTTP API AWS_IAM route, for the local credentials: locally
 * a key pair is its own user, `arn:aws:iam::<account>:user/<access key id>`.
 */
export function iamContext(accessKeyId: string, accountId: string) {
  return {
    accessKey: accessKeyId,
    accountId,
    callerId: accessKeyId,
    principalOrgId: null,
    userArn: `arn:aws:iam::${accountId}:user/${accessKeyId}`,
    userId: accessKeyId,
  };
}

/** What the start banner says about the API's authentication. */
export function apiAuthLine(mode: ApiAuth, region: string, credentials: HttpFrontOptions['credentials']): string {
  return mode === 'none'
    ? 'none: the API is open (--apiAuth iam checks SigV4 signatures, as an AWS_IAM route)'
    : `IAM: SigV4 (execute-api, ${region}) of AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}; anything else gets 403`;
}
