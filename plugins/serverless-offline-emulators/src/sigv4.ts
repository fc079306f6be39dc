/**
 * Verifies a SigV4-signed HTTP request (header auth, AWS4-HMAC-SHA256) against known credentials,
 * as API Gateway does for an IAM-authorized route: the HTTP front (httpFront.ts) runs it before
 * serverless-offline's API when started with `--apiAuth iam`, so unsigned or wrongly signed
 * requests get the 403 they would get on AWS. It re-signs the request's canonical form with the
 * SDK's signer (@smithy/signature-v4, not hand-written crypto) and compares the signatures in
 * constant time; it also checks the credential scope (date, region, service) and the clock skew.
 *
 *   const verdict = await verifySigV4(request, { region: 'us-east-1', lookup: (id) => keys[id] });
 *   if (!verdict.ok) { const { status, headers, body } = forbiddenResponse(verdict); ... }
 */
import { timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** API Gateway's signing name. */
export const EXECUTE_API = 'execute-api';

/** A request as a server sees it. */
export interface IncomingSignedRequest {
  method: string;
  /** The raw request target: path and query, as received (`/machines/x?limit=5`). */
  url: string;
  /** Header names in any case; Node's IncomingMessage.headers works as is. */
  headers: Record<string, string | string[] | undefined>;
  body?: string | Uint8Array;
}

export interface KnownCredentials {
  secretAccessKey: string;
  /** When set, the request must carry this X-Amz-Security-Token (signed). */
  sessionToken?: string;
}

export interface VerifyOptions {
  /** The secret of an access key id, or undefined when the key is unknown. */
  lookup: (accessKeyId: string) => KnownCredentials | undefined;
  /** The region requests must be signed for. */
  region: string;
  /** Default execute-api. */
  service?: string;
  /** Default Date.now. */
  now?: () => number;
  /** Largest accepted difference between X-Amz-Date and now; default 300 s. */
  maxSkewSeconds?: number;
}

export type Verdict = { ok: true; accessKeyId: string } | { ok: false; reason: string };

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function header(headers: IncomingSignedRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(',') : value;
  }
  return undefined;
}

function parseAmzDate(value: string): Date | undefined {
  const parts = AMZ_DATE.exec(value);
  if (!parts) return undefined;
  const [, y, mo, d, h, mi, s] = parts.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The query as received, as the signer takes it (repeated keys as arrays). */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const previous = query[key];
    query[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  return query;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function sha256Hex(body: string | Uint8Array | undefined): Promise<string> {
  if (body === undefined || body.length === 0) return EMPTY_SHA256;
  const hash = new Sha256();
  hash.update(body);
  return Buffer.from(await hash.digest()).toString('hex');
}

const deny = (reason: string): Verdict => ({ ok: false, reason });

/** Whether `request` carries a valid SigV4 signature of known credentials; why not, when not. */
export async function verifySigV4(request: IncomingSignedRequest, options: VerifyOptions): Promise<Verdict> {
  const service = options.service ?? EXECUTE_API;
  const authorization = header(request.headers, 'authorization');
  if (!authorization) return deny('Missing Authentication Token');
  const parts = AUTHORIZATION.exec(authorization.trim());
  if (!parts) return deny('Authorization header is not a SigV4 (AWS4-HMAC-SHA256) signature');
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = parts as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];

  const amzDate = header(request.headers, 'x-amz-date') ?? '';
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) return deny('X-Amz-Date is missing or not in the form YYYYMMDDTHHMMSSZ');
  const now = options.now?.() ?? Date.now();
  const maxSkewMs = (options.maxSkewSeconds ?? 300) * 1000;
  if (Math.abs(now - signingDate.getTime()) > maxSkewMs) {
    return deny('Signature expired: X-Amz-Date is too far from the current time');
  }
  if (scopeDate !== amzDate.slice(0, 8)) return deny('Credential scope date does not match X-Amz-Date');
  if (scopeRegion !== options.region)
    return deny(`Credential should be scoped to a valid region ('${options.region}')`);
  if (scopeService !== service) return deny(`Credential should be scoped to correct service: '${service}'`);

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return deny('the Host header must be signed');
  if (!signedHeaders.includes('x-amz-date')) return deny('the X-Amz-Date header must be signed');

  const known = options.lookup(accessKeyId);
  if (!known) return deny('The security token included in the request is invalid (unknown access key)');
  const token = header(request.headers, 'x-amz-security-token');
  if (known.sessionToken !== undefined && !(token !== undefined && sameSecret(token, known.sessionToken))) {
    return deny('The security token included in the request is invalid');
  }

  const contentSha = header(request.headers, 'x-amz-content-sha256');
  if (contentSha !== undefined && !sameSecret(contentSha, await sha256Hex(request.body))) {
    return deny('X-Amz-Content-Sha256 does not match the body');
  }

  // Re-sign the request's canonical form: only the headers it signed, the same date and scope.
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(request.headers, name);
    if (value === undefined) return deny(`signed header '${name}' is missing`);
    headers[name] = value;
  }
  const url = new URL(request.url, 'http://placeholder');
  const signer = new SignatureV4({
    service,
    region: scopeRegion,
    credentials: { accessKeyId, secretAccessKey: known.secretAccessKey },
    sha256: Sha256,
    // Add no X-Amz-Content-Sha256 of its own: it would be signed too, and the request may not have signed one.
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: 'https:',
      hostname: headers.host ?? '',
      path: url.pathname,
      query: queryOf(url),
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = AUTHORIZATION.exec(String(resigned.headers.authorization));
  const expectedSignature = expected?.[6] ?? '';
  const sameHeaders = expected?.[5] === signedHeaderList;
  if (!sameHeaders || !sameSecret(expectedSignature, signature)) {
    return deny(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { ok: true, accessKeyId };
}

/** The answer to a refused request, as API Gateway gives it: 403 with a JSON body of only `message`. */
export function forbiddenResponse(verdict: { reason: string }): {
  status: 403;
  headers: Record<string, string>;
  body: string;
} {
  return {
    status: 403,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: verdict.reason }),
  };
}
