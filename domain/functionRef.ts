/**
 * Function references in a machine's config: an ARN, a full function name, or the short key of
 * one of this stage's state functions. Every reference must resolve to a function on the
 * allow-list, so a caller can never make the service invoke an arbitrary function of the account,
 * nor the service's own API functions, transition processor or dead-letter consumer, nor a
 * function of another stage.
 */

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const FUNCTION_ARN =
  /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(?::[A-Za-z0-9_$-]{1,128})?$/;

export interface FunctionScope {
  /** `<service>-<stage>-`: the prefix that turns a short key into this stage's function name. */
  servicePrefix: string;
  /**
   * This stage's state functions, by exact name (resources/state-functions.js): the only
   * functions of the service a reference can name, by short key, name or ARN.
   */
  stateFunctions: readonly string[];
  /**
   * Functions outside the service (custom.statemachine.extraFunctionArns): glob patterns
   * (`*` = any characters) matched against a reference's whole ARN; never against a bare name.
   */
  extraFunctionArns: readonly string[];
  /**
   * Where the service runs, when known (the account, region and partition of the running
   * function's ARN): a state function's ARN must be here, so its name cannot be reached in another
   * account, region or partition by writing its ARN.
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
    const here =
      (scope.accountId === undefined || scope.accountId === account) &&
      (scope.region === undefined || scope.region === region) &&
      (scope.partition === undefined || scope.partition === partition);
    if (scope.stateFunctions.includes(name)) return here ? reference : undefined;
    // A name of this stage that is not a state function is one of the service's entry points
    // (or a stage named `<stage>-...`): no extra pattern, however broad, makes it one.
    if (name.startsWith(scope.servicePrefix)) return undefined;
    return scope.extraFunctionArns.some((pattern) => globMatches(pattern, reference)) ? reference : undefined;
  }
  if (!FUNCTION_NAME.test(reference)) return undefined;
  const name = reference.startsWith(scope.servicePrefix) ? reference : `${scope.servicePrefix}${reference}`;
  return scope.stateFunctions.includes(name) ? name : undefined;
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}
