import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePorts,
  type LocalStack,
  type StackOptions,
  type StackPorts,
  scratchBuildDir,
  startLocalStack,
  useLocalCredentials,
} from './localStack';

let stack: LocalStack | undefined;

/** How startTestStack hands the stack to mocha's parallel workers, which it starts afterwards. */
const SHARED_STACK_ENV = 'FSM_TEST_STACK';

/**
 * The local stack the integration tests share: started once per mocha run by the global fixture
 * in tests/integration/hooks.ts, and in a parallel worker the one that run started (the worker
 * only uses it; the run stops it).
 */
export function currentStack(): LocalStack {
  const shared = process.env[SHARED_STACK_ENV];
  if (!stack && shared) stack = { ...JSON.parse(shared), stop: async () => {} };
  if (!stack) throw new Error('the local stack is not running (tests/integration/hooks.ts starts it)');
  return stack;
}

/**
 * `sls offline start --stage local` on ports of its own (so it runs beside a developer's
 * `npm start`), with the timeouts the tests need given as serverless.yml params.
 */
export async function startTestStack(): Promise<LocalStack> {
  stack = await startStack({}, process.env.FSM_REQUEST_LOG);
  process.env[SHARED_STACK_ENV] = JSON.stringify(stack);
  return stack;
}

export interface OwnStackSettings
  extends Pick<StackOptions, 'env' | 'apiAuth' | 'metricsIntervalSeconds' | 'onOutput'> {
  /** serverless.yml params over the shared stack's; `undefined` leaves a param at serverless.yml's value. */
  params?: Record<string, string | undefined>;
}

/**
 * Another stack like the shared one, for a suite that needs other plugin settings; the caller
 * stops it. Its request log is its own.
 */
export function startOwnTestStack(settings: OwnStackSettings = {}): Promise<LocalStack> {
  return startStack(settings);
}

async function startStack(
  { params: ownParams, onOutput, ...settings }: OwnStackSettings,
  requestLog?: string,
): Promise<LocalStack> {
  useLocalCredentials();
  const params: Record<string, string | undefined> = {
    // Short enough that a message a "crashed" processor left behind comes back within a test.
    visibilityTimeout: '5',
    maxQueueDelaySeconds: '2',
    logLevel: process.env.FSM_LOG_LEVEL ?? 'ERROR',
    ...ownParams,
  };
  // Every AWS request the functions make; tests/integration/requestLog.test.ts checks them against
  // IAM. Unless the caller keeps the log (FSM_REQUEST_LOG), it is the stack's, removed with it.
  const ownLogDir = requestLog ? undefined : await mkdtemp(join(tmpdir(), 'fsm-requests-'));
  const removeOwnLog = () => (ownLogDir ? rm(ownLogDir, { recursive: true, force: true }) : Promise.resolve());
  const start = async (ports: StackPorts) =>
    startLocalStack({
      ports,
      buildDir: scratchBuildDir(`test-${ports.http}`),
      params: Object.fromEntries(
        Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ),
      requestLog: requestLog ?? join(ownLogDir as string, 'requests.jsonl'),
      onOutput: (line) => {
        if (process.env.FSM_VERBOSE) console.log(`      [sls] ${line}`);
        onOutput?.(line);
      },
      ...settings,
      // No test edits the project's files but the authoring suite, which says what it edits.
      env: { FSM_WATCH: '.test-stacks-watch-nothing', ...settings.env },
    });
  const started = await startOnFreePorts(start).catch(async (error) => {
    await removeOwnLog();
    throw error;
  });
  return { ...started, stop: () => started.stop().finally(removeOwnLog) };
}

/**
 * Starts on ports that were free a moment ago; another process may have taken one since (stacks
 * of several lanes start at the same moment): then again on other ports.
 */
async function startOnFreePorts(start: (ports: StackPorts) => Promise<LocalStack>): Promise<LocalStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePorts());
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

export async function stopTestStack(): Promise<void> {
  await stack?.stop();
  stack = undefined;
  delete process.env[SHARED_STACK_ENV];
}
