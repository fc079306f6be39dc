import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackInfo } from '../../plugins/serverless-offline-emulators/src/plugin';
import {
  type LocalStack,
  type StackOptions,
  type StackPorts,
  startLocalStack,
  useLocalCredentials,
} from '../../scripts/localStack';

/**
 * Where a stack or an `sls` command of the tests bundles the functions (FSM_BUILD_DIR), relative
 * to the project: under `.build/`, which serverless-esbuild's file watcher ignores. Every running
 * `sls offline` watches the project's .js and .ts files and rebuilds all its functions (seconds
 * of CPU, and every function cold again) when one changes; bundles written to `.esbuild-*` by
 * another stack, `sls package` or `sls invoke local` would set that off in every stack up.
 */
export const testBuildDir = (name: string) => `.build/${name}`;

/**
 * `nice` of the lanes of tests/integration/lanes.ts (and of what they start) whose suites count
 * on seconds the least, and of `npm test`'s jobs beside them (tests/runAll.ts): on a busy machine
 * they yield the CPU to the fault suite's.
 */
export const BACKGROUND_NICENESS = 5;

/**
 * The stacks the integration suites share, started by tests/integration/hooks.ts before the first
 * suite and stopped after the last. In a serial run (`mocha --require tests/integration/hooks.ts
 * <files>`) there is one, `main`, and every name is it. A parallel run (`npm run
 * test:integration`, lanes of suites side by side: tests/integration/lanes.ts) has two, so that
 * suites that run at the same time do not meet each other's machines:
 * - `main`: the suites that count, list or redrive by status the machines of their stack, one
 *   after the other;
 * - `faults`: the fault suite's lanes, side by side, each test with machines and a queue of its
 *   own, none listing machines.
 */
export type SharedStackName = 'main' | 'faults';

/** Each shared stack's serverless.yml params over those every test stack has (see startStack). */
const SHARED_STACK_PARAMS: Record<SharedStackName, Record<string, string>> = {
  main: {},
  // Its dead-lettering test waits for maxReceiveCount (5) receives of a message, one visibility
  // timeout apart; the fault suite's other tests use queues of their own (tests/helpers/faultRig.ts).
  faults: { visibilityTimeout: '2' },
};

/**
 * A folder where the process that starts the shared stacks writes `<name>.json` (a LocalStack but
 * `stop`) once one is up, or `<name>.error` if it could not start: for the processes that run the
 * suites (mocha's parallel workers), which inherit the environment.
 */
const STACKS_DIR_ENV = 'FSM_TEST_STACKS_DIR';
/** The names of the shared stacks of the run, comma-separated (a name not among them is `main`). */
const STACK_NAMES_ENV = 'FSM_TEST_STACK_NAMES';
/** A file listing the request log of every stack a suite started for itself (JSON Lines: { requestLog, info }). */
const OWN_LOGS_ENV = 'FSM_TEST_OWN_REQUEST_LOGS';

/** The shared stacks this process started (it stops them), as they come up. */
const started = new Map<SharedStackName, Promise<LocalStack>>();
/** The shared stacks this process knows to be up: started here, or read from STACKS_DIR. */
const ready = new Map<SharedStackName, LocalStack>();
/** The stack `currentStack()` answers: the one a lane or `useSharedStack` chose, else `main`. */
let current: LocalStack | undefined;

/** The folder of the run's shared stacks (see STACKS_DIR_ENV), where its processes leave notes for each other; none in a run without them. */
export function runFolder(): string | undefined {
  return process.env[STACKS_DIR_ENV];
}

/** The shared stack that stands for `name` in this run. */
function resolveName(name: SharedStackName): SharedStackName {
  const names = (process.env[STACK_NAMES_ENV] ?? 'main').split(',');
  return names.includes(name) ? name : 'main';
}

/** The shared stack `name` if it is up (in this process, or described in STACKS_DIR), else undefined; throws if it failed. */
function readyStack(name: SharedStackName): LocalStack | undefined {
  const known = ready.get(name);
  if (known) return known;
  const dir = process.env[STACKS_DIR_ENV];
  if (!dir) return undefined;
  let text: string;
  try {
    text = readFileSync(join(dir, `${name}.json`), 'utf8');
  } catch {
    let error: string | undefined;
    try {
      error = readFileSync(join(dir, `${name}.error`), 'utf8');
    } catch {
      return undefined;
    }
    throw new Error(`the shared stack ${name} did not start:\n${error}`);
  }
  useLocalCredentials();
  const stack: LocalStack = {
    ...(JSON.parse(text) as Omit<LocalStack, 'stop'>),
    stop: async () => {
      throw new Error(
        `the shared stack ${name} is stopped by the process that started it (tests/integration/hooks.ts)`,
      );
    },
  };
  ready.set(name, stack);
  return stack;
}

/** The shared stack `name` (see SharedStackName), which must be up. */
export function sharedStack(name: SharedStackName): LocalStack {
  const stack = readyStack(resolveName(name));
  if (!stack) throw new Error('the local stack is not running (tests/integration/hooks.ts starts it)');
  return stack;
}

/** Waits until the shared stack `name` is up (another process may still be starting it), and returns it. */
export async function awaitSharedStack(name: SharedStackName, timeoutMs = 180_000): Promise<LocalStack> {
  const resolved = resolveName(name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stack = started.has(resolved) ? await started.get(resolved) : readyStack(resolved);
    if (stack) return stack;
    if (Date.now() > deadline) throw new Error(`the shared stack ${resolved} was not up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Whether nothing listens on `port` of 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

let nextPort: number | undefined;

/**
 * Ports for a stack (or `npm start`) of the tests. A parallel run starts stacks in several
 * processes at once, and a stack listens on its ports only once its functions are bundled: a
 * port the OS calls free in one process (`freePorts()`) can be handed to another before that.
 * So each process takes free ports from a block of its own (mocha's main process, then one per
 * worker), below the range the OS gives outgoing connections; where in its block, at random, so
 * that two runs at once seldom meet.
 */
export async function testPorts(): Promise<StackPorts> {
  if (nextPort === undefined) {
    const block = (Number(process.env.MOCHA_WORKER_ID ?? -1) + 1) % 12;
    nextPort = 20_000 + block * 1000 + Math.floor(Math.random() * 800);
  }
  const take = async (): Promise<number> => {
    const port = nextPort as number;
    nextPort = port + 1;
    return (await portIsFree(port)) ? port : take();
  };
  return { http: await take(), lambda: await take(), dynamodb: await take(), sqs: await take() };
}

/** The local stack the integration tests of the running suite use. */
export function currentStack(): LocalStack {
  return current ?? sharedStack('main');
}

/**
 * In a describe (or at the top of a lane): its tests, and the helpers they call, use the shared
 * stack `name`, once it is up.
 */
export function useSharedStack(name: SharedStackName): void {
  useStack(() => awaitSharedStack(name));
}

/**
 * At the top of a lane: its suites, one after the other, use a stack like the shared ones, of
 * their own (started before the first, stopped after the last; its requests are checked too).
 */
export function useOwnStack(): void {
  let own: LocalStack | undefined;
  useStack(async () => {
    own = await startOwnTestStack();
    return own;
  });
  after(async function () {
    this.timeout(60_000);
    await own?.stop();
  });
}

function useStack(get: () => Promise<LocalStack>): void {
  let previous: LocalStack | undefined;
  before(async function () {
    this.timeout(200_000);
    const stack = await get();
    previous = current;
    current = stack;
  });
  after(() => {
    current = previous;
  });
}

/**
 * Starts the shared stacks `names` (`sls offline start --stage local` on ports of their own, so
 * they run beside a developer's `npm start`, with the timeouts the tests need given as
 * serverless.yml params), all at once, and describes each in STACKS_DIR once it is up, for the
 * processes this one starts after. `main` logs its requests to FSM_REQUEST_LOG if set. Resolves
 * once they are all up, or fails if one could not start.
 */
export async function startSharedStacks(names: SharedStackName[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-shared-stacks-'));
  Object.assign(process.env, {
    [STACKS_DIR_ENV]: dir,
    [STACK_NAMES_ENV]: names.join(','),
    [OWN_LOGS_ENV]: join(dir, 'own-request-logs.jsonl'),
  });
  // One after the other, in the order given: bundling takes both cores, and the first lane can start sooner.
  let previous: Promise<unknown> = Promise.resolve();
  for (const name of names) {
    const starting = previous
      .catch(() => undefined)
      .then(() =>
        startStack({ params: SHARED_STACK_PARAMS[name] }, name === 'main' ? process.env.FSM_REQUEST_LOG : undefined),
      )
      .then(
        (stack) => {
          ready.set(name, stack);
          const { stop: _stop, ...described } = stack;
          writeFileSync(join(dir, `${name}.json`), JSON.stringify(described));
          return stack;
        },
        (error: Error) => {
          writeFileSync(join(dir, `${name}.error`), error.stack ?? String(error));
          throw error;
        },
      );
    started.set(name, starting);
    previous = starting;
  }
  await Promise.all(started.values());
}

/** Stops every shared stack this process started (waiting for those still starting). */
export async function stopSharedStacks(): Promise<void> {
  const stacks = await Promise.allSettled(started.values());
  started.clear();
  ready.clear();
  await Promise.all(stacks.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
}

/** Every request log of the run: the shared stacks', then those of the stacks suites started for themselves. */
export function requestLogsOfRun(): { name: string; requestLog: string; info: StackInfo }[] {
  const logs: { name: string; requestLog: string; info: StackInfo }[] = [...ready.entries()]
    .filter(([, stack]) => stack.requestLog)
    .map(([name, stack]) => ({ name, requestLog: stack.requestLog as string, info: stack.info }));
  const ownLogs = process.env[OWN_LOGS_ENV];
  let own = '';
  try {
    own = ownLogs ? readFileSync(ownLogs, 'utf8') : '';
  } catch {
    // no suite started a stack of its own
  }
  for (const line of own.split('\n').filter(Boolean)) {
    const { requestLog, info } = JSON.parse(line) as { requestLog: string; info: StackInfo };
    logs.push({ name: `own stack ${info.endpoints.http}`, requestLog, info });
  }
  return logs;
}

export interface OwnStackSettings
  extends Pick<StackOptions, 'env' | 'apiAuth' | 'metricsIntervalSeconds' | 'onOutput'> {
  /** serverless.yml params over the shared stack's; `undefined` leaves a param at serverless.yml's value. */
  params?: Record<string, string | undefined>;
}

/**
 * Another stack like the shared one, for a suite that needs other plugin settings; the caller
 * stops it. Its request log is its own; the run's IAM check (tests/integration/hooks.ts) reads it
 * too.
 */
export async function startOwnTestStack(settings: OwnStackSettings = {}): Promise<LocalStack> {
  const stack = await startStack(settings);
  const ownLogs = process.env[OWN_LOGS_ENV];
  if (ownLogs && stack.requestLog) {
    appendFileSync(ownLogs, `${JSON.stringify({ requestLog: stack.requestLog, info: stack.info })}\n`);
  }
  return stack;
}

async function startStack(
  { params: ownParams, onOutput, ...settings }: OwnStackSettings,
  requestLog?: string,
): Promise<LocalStack> {
  useLocalCredentials();
  const ports = await testPorts();
  const params: Record<string, string | undefined> = {
    // Short enough that a message a "crashed" processor left behind comes back within a test.
    visibilityTimeout: '5',
    maxQueueDelaySeconds: '2',
    logLevel: process.env.FSM_LOG_LEVEL ?? 'ERROR',
    ...ownParams,
  };
  return startLocalStack({
    ports,
    buildDir: testBuildDir(`test-${ports.http}`),
    params: Object.fromEntries(
      Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    // Every AWS request the functions make; tests/integration/requestLog.test.ts checks them against IAM.
    requestLog: requestLog ?? join(mkdtempSync(join(tmpdir(), 'fsm-requests-')), 'requests.jsonl'),
    onOutput: (line) => {
      if (process.env.FSM_VERBOSE) console.log(`      [sls] ${line}`);
      onOutput?.(line);
    },
    ...settings,
  });
}
