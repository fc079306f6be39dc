/**
 * Client-side authentication of API requests: which mode an endpoint needs, and the
 * `transformRequest` hooks (client/apiClient.ts) that sign a request with SigV4 (IAM auth) or add
 * a bearer token (JWT auth). Signing uses the AWS SDK's own signer and credential chain.
 */
import type { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { ApiRequest, RequestTransform } from './apiClient';

export const AUTH_MODES = ['none', 'iam', 'jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** API Gateway's signing name: what `curl --aws-sigv4 "aws:amz:<region>:execute-api"` names too. */
export const EXECUTE_API = 'execute-api';

const EXECUTE_API_HOST = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** The region of an API Gateway default endpoint (`<id>.execute-api.<region>.amazonaws.com`), if it is one. */
export function regionOfEndpoint(endpoint: string | URL): string | undefined {
  const host = new URL(endpoint).hostname.toLowerCase();
  return EXECUTE_API_HOST.exec(host)?.[1];
}

/**
 * The mode to use: `--auth` / FSM_AUTH when given, else IAM for an API Gateway default endpoint
 * (a deployed stage) and none for anything else (the local stack).
 */
export function resolveAuthMode(endpoint: string, requested?: string): AuthMode {
  if (requested !== undefined && requested !== '') {
    if (!(AUTH_MODES as readonly string[]).includes(requested)) {
      throw new Error(`auth must be one of ${AUTH_MODES.join(', ')}, not '${requested}'`);
    }
    return requested as AuthMode;
  }
  return regionOfEndpoint(endpoint) ? 'iam' : 'none';
}

export interface SigV4Options {
  /** Signing region; default: from the endpoint's host, else AWS_REGION, else AWS_DEFAULT_REGION. */
  region?: string;
  /** Default: the SDK's standard chain (env, SSO, ini profiles, process, web identity, ECS/EC2). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Default `execute-api`. */
  service?: string;
  /** For tests: the signing time. */
  now?: () => Date;
}

/** The region to sign for `endpoint`; throws with what to set when none is known. */
export function signingRegion(endpoint: string | URL, env: NodeJS.ProcessEnv = process.env, region?: string): string {
  const found = region || regionOfEndpoint(endpoint) || env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!found) throw new Error(`cannot tell the signing region of ${endpoint}: set AWS_REGION`);
  return found;
}

/**
 * The SDK's signer for `service` (default execute-api) in `region`, with the given or default
 * credentials. Loaded on first use: a CLI command against the local stack (auth none) then starts
 * without the signer and the credential chain, about a third of its start-up.
 */
async function createSigner(
  region: string,
  options: Pick<SigV4Options, 'credentials' | 'service'> = {},
): Promise<SignatureV4> {
  const [{ Sha256 }, { defaultProvider }, { SignatureV4 }] = await Promise.all([
    import('@aws-crypto/sha256-js'),
    import('@aws-sdk/credential-provider-node'),
    import('@smithy/signature-v4'),
  ]);
  return new SignatureV4({
    service: options.service ?? EXECUTE_API,
    region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
}

/** The query of a URL as the signer takes it (repeated keys as arrays). */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const previous = query[key];
    query[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  return query;
}

/**
 * A transformRequest that signs every request with SigV4 (service execute-api), credentials from
 * the SDK's standard chain unless given. The request's `host` is signed, as fetch will send it.
 */
export function sigV4Transform(options: SigV4Options = {}): RequestTransform {
  const signers = new Map<string, Promise<SignatureV4>>();
  return async (request: ApiRequest): Promise<ApiRequest> => {
    const region = signingRegion(request.url, process.env, options.region);
    let signer = signers.get(region);
    if (!signer) {
      signer = createSigner(region, options);
      signers.set(region, signer);
    }
    const { url } = request;
    const signed = await (await signer).sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: queryOf(url),
        headers: { ...request.headers, host: url.host },
        ...(request.body === undefined ? {} : { body: request.body }),
      },
      options.now ? { signingDate: options.now() } : {},
    );
    // fetch sets Host itself (to the same url.host that was signed).
    const { host: _host, ...headers } = signed.headers;
    return { ...request, headers };
  };
}

/** A transformRequest that adds `Authorization: Bearer <token>` (JWT authorizer). */
export function bearerTransform(token: string): RequestTransform {
  if (!token) throw new Error('JWT auth needs a token: set FSM_TOKEN or pass --token');
  return (request) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } });
}

export interface AuthSettings {
  endpoint: string;
  /** none | iam | jwt; default from the endpoint (resolveAuthMode). */
  auth?: string;
  /** The bearer token for jwt. */
  token?: string;
  sigV4?: SigV4Options;
}

/** The transformRequest for `settings`, or undefined when requests go unsigned (auth none). */
export function requestTransformFor(settings: AuthSettings): RequestTransform | undefined {
  const mode = resolveAuthMode(settings.endpoint, settings.auth);
  if (mode === 'iam') return sigV4Transform(settings.sigV4);
  if (mode === 'jwt') return bearerTransform(settings.token ?? '');
  return undefined;
}
