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

export interface HttpFrontOptions {
  port: number;
  host: string;
  /** serverless-offline's own HTTP server. */
  target: { host: string; port: number };
  region: string;
  /** The account of the caller's ARN in the request context. */
  accountId: string;
  /** The one key pair the API accepts: the credentials the plugin gives the functions. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Told about every refused request (method, path, why). */
  onRefused?: (method: string, path: string, reason: string) => void;
  /** For tests: the verifier's clock. */
  now?: () => number;
}

/**
 * The HTTP API as an `AWS_IAM` route of API Gateway serves it: every request must carry a valid
 * SigV4 signature (service execute-api, the stage's region) of the local credentials, else it is
 * answered 403 `{"message": ...}` and never reaches a function; a signed one is forwarded
 * unchanged (streaming, keep-alive) to serverless-offline, which cannot check SigV4 itself (it
 * refuses to start with an IAM authorizer).
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
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req)
      .then(async (body) => {
        const verdict = await verifySigV4(
          { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
          verify,
        );
        if (!verdict.ok) {
          options.onRefused?.(req.method ?? 'GET', (req.url ?? '/').split('?')[0] as string, verdict.reason);
          const refusal = forbiddenResponse(verdict);
          res.writeHead(refusal.status, {
            ...refusal.headers,
            'content-length': String(Buffer.byteLength(refusal.body)),
          });
          res.end(refusal.body);
          return;
        }
        // What API Gateway puts in an AWS_IAM route's request context, handed to serverless-offline
        // in the header it reads an authorizer context from; a caller's own copy never gets through.
        req.headers[AUTHORIZER_OVERRIDE] = JSON.stringify({ iam: iamContext(verdict.accessKeyId, options.accountId) });
        forward(req, res, body, {
          agent,
          target: options.target,
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
