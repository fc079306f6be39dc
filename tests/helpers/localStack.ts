import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { LOCAL_CREDENTIALS } from '../../plugins/serverless-offline-emulators/src/credentials';
import type { ApiAuth } from '../../plugins/serverless-offline-emulators/src/httpFront';
import type { StackInfo } from '../../plugins/serverless-offline-emulators/src/plugin';
import { freePort } from '../../plugins/serverless-offline-emulators/src/servers';

/**
 * Starts `sls offline start` (the whole local stack, see plugins/serverless-offline-emulators) for
 * the tests and the benchmark, on ports of their own, and reads what it serves from the stack
 * info the plugin writes once it is ready.
 */

/** The names serverless.yml gives things (`service`, `custom.queues`, `custom.tables`); the packaging test checks them. */
export const SERVICE = 'serverless-statemachine';
export const LOCAL_STAGE = 'local';

export const queueNames = (stage = LOCAL_STAGE) => ({
  transitions: `${SERVICE}-${stage}-transitions`,
  deadLetters: `${SERVICE}-${stage}-dead-letters`,
});

export const tableNames = (stage = LOCAL_STAGE) => ({
  machines: `${SERVICE}-${stage}-machines`,
  history: `${SERVICE}-${stage}-history`,
});

/**
 * The credentials the stack gives its functions: the emulators take any, a developer's machine may
 * have none configured, and with `apiAuth: 'iam'` the API accepts only requests signed with them.
 */
export { LOCAL_CREDENTIALS };

/** For a process whose SDK clients talk only to the local stack: dummy credentials unless set. */
export function useLocalCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION ??= 'us-east-1';
}

export interface StackPorts {
  http: number;
  lambda: number;
  dynamodb: number;
  sqs: number;
}

export interface StackOptions {
  ports: StackPorts;
  stage?: string;
  /** `--param name=value` for serverless.yml's params (e.g. visibilityTimeout, maxQueueDelaySeconds). */
  params?: Record<string, string>;
  /** Keep DynamoDB's data and the queued messages in this folder across restarts. */
  dataDir?: string;
  /** Append every AWS request the functions make to this JSON Lines file. */
  requestLog?: string;
  /** Where serverless-esbuild writes its bundles, relative to the project. */
  buildDir?: string;
  /** Extra environment for `sls offline`. */
  env?: Record<string, string>;
  /** `iam`: the API requires SigV4 signatures of LOCAL_CREDENTIALS (`--apiAuth iam`); default open. */
  apiAuth?: ApiAuth;
  /** Seconds between the stack's metrics lines (`--metricsInterval`; 0: none); the plugin's default unless set. */
  metricsIntervalSeconds?: number;
  /** Receives every line `sls offline` prints. */
  onOutput?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface LocalStack {
  apiUrl: string;
  ports: StackPorts;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** The `sls offline` process (emulators, event source, API and functions all run in it). */
  offlinePid?: number;
  /** Environment that points AWS SDK clients and our adapters at this stack. */
  env: Record<string, string>;
  info: StackInfo;
  /** The JSON Lines file the stack logs the functions' AWS requests to, if asked. */
  requestLog?: string;
  stop(): Promise<void>;
}

/** The one rule of the local stack's ports, the emulators plugin's. */
export { freePort };

export async function freePorts(): Promise<StackPorts> {
  const taken = new Set<number>();
  const next = async () => {
    const port = await freePort('127.0.0.1', taken);
    taken.add(port);
    return port;
  };
  return { http: await next(), lambda: await next(), dynamodb: await next(), sqs: await next() };
}

const PROJECT_DIR = join(__dirname, '..', '..');
export const SLS_BIN = join(PROJECT_DIR, 'node_modules', 'osls', 'bin', 'serverless.js');

/**
 * A folder of the project for the bundles of one stack or `sls` command (FSM_BUILD_DIR), under
 * `.build/`, which serverless-esbuild's file watcher ignores. Every running `sls offline` watches
 * the project's .js and .ts files and rebuilds all its functions (seconds of CPU, every function
 * cold again) when one changes: bundles written next to it by another stack, `sls package` or
 * `sls invoke local` would set that off in every stack up, as when test lanes run side by side.
 * Named for this process too: a stack that fails to start removes its folder, its own alone.
 */
export const scratchBuildDir = (name: string) => `.build/${name}-${process.pid}`;

/** Environment for `sls` commands run against a local stack on `ports` (quiet, no AWS needed). */
export function slsEnv(ports: StackPorts, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    FSM_HTTP_PORT: String(ports.http),
    FSM_LAMBDA_PORT: String(ports.lambda),
    FSM_DYNAMODB_PORT: String(ports.dynamodb),
    FSM_SQS_PORT: String(ports.sqs),
    ...extra,
  };
}

/** `sls offline start` in its own process group; resolves once it serves the API. `stop()` ends all of it. */
export async function startLocalStack(options: StackOptions): Promise<LocalStack> {
  const { ports } = options;
  const stage = options.stage ?? LOCAL_STAGE;
  const infoDir = await mkdtemp(join(tmpdir(), 'fsm-stack-'));
  const infoFile = join(infoDir, 'stack.json');
  const args = [
    SLS_BIN,
    'offline',
    'start',
    '--stage',
    stage,
    '--httpPort',
    String(ports.http),
    '--lambdaPort',
    String(ports.lambda),
    '--dynamodbPort',
    String(ports.dynamodb),
    '--sqsPort',
    String(ports.sqs),
    '--stackInfo',
    infoFile,
    ...Object.entries(options.params ?? {}).flatMap(([name, value]) => ['--param', `${name}=${value}`]),
    ...(options.dataDir ? ['--persist', '--dataDir', options.dataDir] : []),
    ...(options.requestLog ? ['--requestLog', options.requestLog] : []),
    ...(options.apiAuth ? ['--apiAuth', options.apiAuth] : []),
    ...(options.metricsIntervalSeconds === undefined
      ? []
      : ['--metricsInterval', String(options.metricsIntervalSeconds)]),
  ];
  const buildDir = options.buildDir ?? '.esbuild';
  const offline = spawn(process.execPath, args, {
    cwd: PROJECT_DIR,
    env: slsEnv(ports, { FSM_BUILD_DIR: buildDir, ...options.env }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    await stopProcessGroup(offline);
    await rm(infoDir, { recursive: true, force: true });
    if (buildDir !== '.esbuild') await rm(join(PROJECT_DIR, buildDir), { recursive: true, force: true });
  };
  try {
    const info = await waitUntilReady(offline, infoFile, options.onOutput, options.startTimeoutMs ?? 90_000);
    const { outputs, environment } = info;
    return {
      apiUrl: info.endpoints.http,
      ports,
      queueUrl: outputs.TransitionQueueUrl as string,
      deadLetterQueueUrl: outputs.DeadLetterQueueUrl as string,
      offlinePid: offline.pid,
      env: {
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_REGION: info.region,
        SERVICE_PREFIX: environment.SERVICE_PREFIX as string,
        ALLOWED_FUNCTIONS: environment.ALLOWED_FUNCTIONS as string,
        TABLE_NAME: environment.TABLE_NAME as string,
        HISTORY_TABLE_NAME: environment.HISTORY_TABLE_NAME as string,
        QUEUE_URL: environment.QUEUE_URL as string,
        DYNAMODB_ENDPOINT: info.endpoints.dynamodb,
        SQS_ENDPOINT: info.endpoints.sqs,
        LAMBDA_ENDPOINT: info.endpoints.lambda,
      },
      info,
      ...(options.requestLog ? { requestLog: options.requestLog } : {}),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntilReady(
  child: ChildProcess,
  infoFile: string,
  onOutput: ((line: string) => void) | undefined,
  timeoutMs: number,
): Promise<StackInfo> {
  const output: string[] = [];
  // Whole lines, however the pipe cuts the output into chunks (an EMF line can be longer than one).
  const collect = (stream: Readable | null) =>
    stream &&
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      if (!line.trim()) return;
      output.push(line);
      if (output.length > 200) output.shift();
      onOutput?.(line);
    });
  collect(child.stdout);
  collect(child.stderr);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // An emulator that could not listen leaves the process up but never ready: no use waiting.
    if (output.some((line) => line.includes('EADDRINUSE'))) {
      throw new Error(`sls offline could not listen on a port:\n${output.join('\n')}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `sls offline exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.join('\n')}`,
      );
    }
    const info = await readFile(infoFile, 'utf8').then(
      (text) => JSON.parse(text) as StackInfo,
      () => undefined,
    );
    if (info) return info;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sls offline was not ready within ${timeoutMs} ms:\n${output.join('\n')}`);
}

/** Ends `sls offline` and everything it started (it runs in its own process group). */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  signal('SIGKILL');
}
