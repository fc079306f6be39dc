import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';

/**
 * serverless-offline's in-process runner starts each invocation by copying the function's
 * environment into the one process.env all functions share (`Object.assign(process.env, env)`),
 * and the AWS SDK reads settings such as AWS_SDK_UA_APP_ID lazily, at a client's first request:
 * a client whose first request follows an await (a second client, say) could read the variable
 * another function's invocation wrote meanwhile. This scopes `keys` per invocation: a write to one
 * of them (the runner's copy) also binds the value to the writer's async context, and a read
 * returns the value bound to the context it runs in, or the shared value outside any invocation.
 * Returns a function that puts the plain process.env back.
 */
export function scopeEnvPerInvocation(
  keys: readonly string[],
  /** Variables whose value, when the provider has one in the reading context, comes from it. */
  provided: Record<string, () => string | undefined> = {},
): () => void {
  const storage = new AsyncLocalStorage<Record<string, string>>();
  const scoped = new Set(keys);
  const shared = process.env;
  const proxy = new Proxy(shared, {
    get(target, key) {
      if (typeof key === 'string' && key in provided) {
        const value = provided[key]?.();
        if (value !== undefined) return value;
      }
      if (typeof key === 'string' && scoped.has(key)) {
        const bound = storage.getStore();
        if (bound && key in bound) return bound[key];
      }
      return Reflect.get(target, key);
    },
    set(target, key, value) {
      if (typeof key === 'string' && scoped.has(key))
        storage.enterWith({ ...storage.getStore(), [key]: String(value) });
      return Reflect.set(target, key, value);
    },
  });
  process.env = proxy;
  return () => {
    if (process.env === proxy) process.env = shared;
  };
}

/**
 * Lambda's per-invocation trace header: the event sources send it with each invoke (its lineage
 * counts the chain's invocations); an invocation's SDK clients read it from _X_AMZN_TRACE_ID and
 * send it on with every request, so SQS keeps it with each message. Scopes AWS_SDK_UA_APP_ID too
 * (see above); returns a function that undoes both.
 */
export function propagateTraceHeader(lambdaPort: number): () => void {
  const traces = new AsyncLocalStorage<{ trace?: string }>();
  const onRequest = (message: unknown) => {
    const { request, server } = message as { request: IncomingMessage; server: Server };
    const address = server.address();
    if (typeof address !== 'object' || address?.port !== lambdaPort) return;
    const header = request.headers['x-amzn-trace-id'];
    traces.enterWith(typeof header === 'string' ? { trace: header } : {});
  };
  diagnosticsChannel.subscribe('http.server.request.start', onRequest);
  const unscopeEnv = scopeEnvPerInvocation(['AWS_SDK_UA_APP_ID'], {
    _X_AMZN_TRACE_ID: () => traces.getStore()?.trace,
  });
  return () => {
    unscopeEnv();
    diagnosticsChannel.unsubscribe('http.server.request.start', onRequest);
  };
}
