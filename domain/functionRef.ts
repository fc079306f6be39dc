/**
 * Function references in a machine's config: an ARN, a full function name, or the short key of
 * one of this service's functions. Every reference must resolve to a function on the allow-list,
 * so a caller can never make the service invoke an arbitrary function of the account.
 */

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const FUNCTION_ARN =
  /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(?::[A-Za-z0-9_$-]{1,128})?$/;

export interface FunctionScope {
  /** `<service>-<stage>-`: the prefix that turns a short key into this service's function name. */
  servicePrefix: string;
  /**
   * Glob patterns (`*` = any characters). Patterns starting with `arn:` match a reference's ARN;
   * the others match a function name (of a bare reference, or of an ARN in `accountId`).
   */
  allowList: readonly string[];
  /**
   * Where the service runs, when known (from the running function's ARN): ARNs of another
   * account, region or partition never match name patterns, so a name on the allow-list cannot
   * be reached in another account, region or partition by writing its ARN.
   */
  accountId?: string;
  region?: string;
  partition?: string;
}

export function isWellFormedReference(reference: string): boolean {
  return FUNCTION_NAME.test(reference) || FUNCTION_ARN.test(reference);
}

/** The function name or ARN to invoke for `reference`, or undefined if it is not allowed. */
export function resolveFunction(reference: string, scope: FunctionScope): string | undefined {
  const arn = FUNCTION_ARN.exec(reference);
  if (arn) {
    const [, partition, region, account, name] = arn as unknown as [string, string, string, string, string];
    const local =
      (scope.accountId === undefined || scope.accountId === account) &&
      (scope.region === undefined || scope.region === region) &&
      (scope.partition === undefined || scope.partition === partition);
    const allowed = scope.allowList.some((pattern) =>
      pattern.startsWith('arn:') ? globMatches(pattern, reference) : local && globMatches(pattern, name),
    );
    return allowed ? reference : undefined;
  }
  if (!FUNCTION_NAME.test(reference)) return undefined;
  const namePatterns = scope.allowList.filter((pattern) => !pattern.startsWith('arn:'));
  const candidates = reference.startsWith(scope.servicePrefix)
    ? [reference]
    : [`${scope.servicePrefix}${reference}`, reference];
  return candidates.find(
    (name) => FUNCTION_NAME.test(name) && namePatterns.some((pattern) => globMatches(pattern, name)),
  );
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

/** The allow-list a deployment gets when it configures nothing: its own functions only. */
export function defaultAllowList(servicePrefix: string): string[] {
  return [`${servicePrefix}*`];
}
