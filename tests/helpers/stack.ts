import { freePort, type LocalStack, startLocalStack, useLocalCredentials } from '../../scripts/localStack';

let stack: LocalStack | undefined;

/** The local stack the integration tests share; started by the root hooks in tests/integration/hooks.ts. */
export function currentStack(): LocalStack {
  if (!stack) throw new Error('the local stack is not running (tests/integration/hooks.ts starts it)');
  return stack;
}

/** Starts the whole stack on ports of its own, so it runs beside a developer's `npm start`. */
export async function startTestStack(): Promise<LocalStack> {
  useLocalCredentials();
  const ports = { http: await freePort(), lambda: await freePort(), dynamodb: await freePort(), sqs: await freePort() };
  stack = await startLocalStack({
    ports,
    buildDir: `.esbuild-test-${ports.http}`,
    // Short enough that a message a "crashed" processor left behind comes back within a test.
    visibilityTimeout: 5,
    env: { FSM_MAX_QUEUE_DELAY_SECONDS: '2', FSM_LOG_LEVEL: process.env.FSM_LOG_LEVEL ?? 'ERROR' },
    onOutput: process.env.FSM_VERBOSE ? (line) => console.log(`      [sls] ${line}`) : undefined,
  });
  return stack;
}

export async function stopTestStack(): Promise<void> {
  await stack?.stop();
  stack = undefined;
}
