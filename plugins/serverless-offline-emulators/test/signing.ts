import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export const CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

/**
 * A request to `url` signed with the SDK's signer as an SDK client (or `fsm --auth iam`) signs it
 * for API Gateway: service execute-api, the host signed, X-Amz-Content-Sha256 added.
 */
export async function signedRequest(
  url: string,
  options: {
    method?: string;
    body?: string;
    at?: number;
    secret?: string;
    sessionToken?: string;
    region?: string;
  } = {},
): Promise<{ method: string; url: string; headers: Record<string, string>; body?: string }> {
  const target = new URL(url);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region ?? 'us-east-1',
    credentials: {
      ...CREDENTIALS,
      secretAccessKey: options.secret ?? CREDENTIALS.secretAccessKey,
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    },
    sha256: Sha256,
  });
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of target.searchParams) {
    const previous = query[key];
    query[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  const method = options.method ?? 'GET';
  const signed = await signer.sign(
    {
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      path: target.pathname,
      query,
      headers: {
        host: target.host,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: options.body }),
    },
    options.at === undefined ? {} : { signingDate: new Date(options.at) },
  );
  return {
    method,
    url: `${target.pathname}${target.search}`,
    headers: signed.headers as Record<string, string>,
    ...(options.body === undefined ? {} : { body: options.body }),
  };
}
