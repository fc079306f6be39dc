import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Two corrections to how serverless-offline (14, worker-thread mode) runs a function, made on its
 * LambdaFunction class (docs/local-stack.md "Settings"):
 *
 * - After a rebuild (serverless-esbuild's watcher, `offline:functionsUpdated`) it terminates every
 *   function instance, running or not, so the next invocation loads the new bundle. An instance
 *   that is running is instead retired when its invocation ends: a save must not fail the
 *   requests and steps in flight (a transition batch that failed would come back only after the
 *   queue's visibility timeout).
 * - A function behind the HTTP API that fails or times out is answered 200 with Lambda's error
 *   object as the body (for payload 2.0 it wraps whatever has no statusCode). API Gateway
 *   answers 500 Internal Server Error, and 503 Service Unavailable when the function timed out:
 *   the local API now does too.
 */

interface LambdaFunctionLike {
  status: string;
  setEvent(event: unknown): void;
  runHandler(): Promise<unknown>;
  cleanup(): Promise<unknown>;
}

interface LambdaFunctionClass {
  prototype: LambdaFunctionLike;
}

const PATCHED = Symbol.for('serverless-offline-emulators.runner');

/** An HTTP API (payload 2.0) or REST API proxy event, as serverless-offline builds them. */
function isHttpEvent(event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const { requestContext } = event as { requestContext?: { http?: unknown; httpMethod?: unknown } };
  return (
    typeof requestContext === 'object' &&
    requestContext !== null &&
    (requestContext.http !== undefined || requestContext.httpMethod !== undefined)
  );
}

/** What API Gateway answers for a function that failed (500) or timed out (503). */
export function gatewayError(error: unknown): { statusCode: number; headers: Record<string, string>; body: string } {
  const timedOut = (error as Error | undefined)?.constructor?.name === 'LambdaTimeoutError';
  return {
    statusCode: timedOut ? 503 : 500,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: timedOut ? 'Service Unavailable' : 'Internal Server Error' }),
  };
}

/** Patches serverless-offline's LambdaFunction (once per process). */
export async function correctOfflineRunner(): Promise<void> {
  const entry = require.resolve('serverless-offline');
  const url = pathToFileURL(join(dirname(entry), 'lambda', 'LambdaFunction.js')).href;
  const { default: LambdaFunction } = (await import(url)) as { default: LambdaFunctionClass };
  patch(LambdaFunction);
}

export function patch(LambdaFunction: LambdaFunctionClass): void {
  const proto = LambdaFunction.prototype as LambdaFunctionLike & { [PATCHED]?: true };
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const { setEvent, runHandler, cleanup } = proto;
  const events = new WeakMap<LambdaFunctionLike, unknown>();
  const retired = new WeakSet<LambdaFunctionLike>();

  proto.setEvent = function (this: LambdaFunctionLike, event: unknown) {
    events.set(this, event);
    return setEvent.call(this, event);
  };

  proto.runHandler = async function (this: LambdaFunctionLike) {
    try {
      return await runHandler.call(this);
    } catch (error) {
      if (!isHttpEvent(events.get(this))) throw error;
      return gatewayError(error);
    } finally {
      if (retired.has(this)) await cleanup.call(this);
    }
  };

  proto.cleanup = function (this: LambdaFunctionLike) {
    if (this.status !== 'BUSY') return cleanup.call(this);
    retired.add(this);
    return Promise.resolve();
  };
}

/**
 * Forgets the bundles loaded from `codeDir` (where serverless-esbuild writes them), so that a
 * function run on the main thread (param inProcess) loads its rebuilt bundle at its next
 * invocation; a worker thread's instance is terminated by serverless-offline instead.
 */
export function forgetBundles(codeDir: string | undefined): string[] {
  if (!codeDir) return [];
  const forgotten = Object.keys(require.cache).filter(
    (file) => file.startsWith(codeDir + sep) && !file.includes(`${sep}node_modules${sep}`),
  );
  for (const file of forgotten) delete require.cache[file];
  return forgotten;
}
