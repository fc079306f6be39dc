import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, type LocalStack, startLocalStack, useLocalCredentials } from '../../scripts/localStack';

let stack: LocalStack | undefined;

/** The local stack the integration tests share; started by the root hooks in tests/integration/hooks.ts. */
export function currentStack(): LocalStack {
  if (!stack) throw new Error('the local stack is not running (tests/integration/hooks.ts starts it)');
  return stack;
}

/**
 * `sls offline start --stage local` on ports of its own (so it runs beside a developer's
 * `npm start`), with the timeouts the tests need given as serverless.yml params.
 */
export async function startTestStack(): Promise<LocalStack> {
  stack = await startOwnTestStack();
  return stack;
}

/**
 * Another stack like the shared one, for a suite that needs other plugin settings (`env`, e.g.
 * SLS_OFFLINE_INVOKE_CONCURRENCY); the caller stops it. Its request log is its own.
 */
export async function startOwnTestStack(extra: { env?: Record<string, string> } = {}): Promise<LocalStack> {
  useLocalCredentials();
  const ports = await freePorts();
  return startLocalStack({
    ports,
    buildDir: `.esbuild-test-${ports.http}`,
    params: {
      // Short enough that a message a "crashed" processor left behind comes back within a test.
      visibilityTimeout: '5',
      maxQueueDelaySeconds: '2',
      logLevel: process.env.FSM_LOG_LEVEL ?? 'ERROR',
    },
    // Every AWS request the functions make; tests/integration/requestLog.test.ts checks them against IAM.
    requestLog:
      (extra.env ? undefined : process.env.FSM_REQUEST_LOG) ??
      join(mkdtempSync(join(tmpdir(), 'fsm-requests-')), 'requests.jsonl'),
    onOutput: process.env.FSM_VERBOSE ? (line) => console.log(`      [sls] ${line}`) : undefined,
    ...(extra.env ? { env: extra.env } : {}),
  });
}

export async function stopTestStack(): Promise<void> {
  await stack?.stop();
  stack = undefined;
}
