import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { createSqsServer } from 'local-aws-sqs';
import { startSqsEventSource } from './sqsEventSource';

/** Must agree with serverless.yml (`service`, `custom.queues`); the packaging test checks it. */
export const SERVICE = 'serverless-statemachine';
export const LOCAL_STAGE = 'local';
export const LOCAL_ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
const MAX_RECEIVE_COUNT = 5;

/** The emulators take any credentials; a developer's machine may have none configured. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** For a process whose SDK clients talk only to the local stack: dummy credentials unless set. */
export function useLocalCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION ??= REGION;
}
/** The local event source's settings (on AWS: serverless.yml's sqs event and Lambda's own pollers). */
const LOCAL_BATCH_SIZE = 10;
const LOCAL_POLLERS = 8;

export interface StackPorts {
  http: number;
  lambda: number;
  dynamodb: number;
  sqs: number;
}

export const DEFAULT_PORTS: StackPorts = { http: 3000, lambda: 3002, dynamodb: 4567, sqs: 9324 };

export interface StackOptions {
  ports?: Partial<StackPorts>;
  /** Keep DynamoDB's data in this folder instead of in memory. */
  dataDir?: string;
  /** Seconds a received message stays invisible; AWS uses 6 x the processor's timeout. */
  visibilityTimeout?: number;
  /** Extra environment for `sls offline` (e.g. FSM_MAX_QUEUE_DELAY_SECONDS). */
  env?: Record<string, string>;
  /** Where serverless-esbuild writes its bundles, relative to the project. */
  buildDir?: string;
  /** Receives every line `sls offline` prints. */
  onOutput?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface LocalStack {
  apiUrl: string;
  ports: StackPorts;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** The `sls offline` process (the API, the processor and the state functions run in it). */
  offlinePid?: number;
  /** Environment that points AWS SDK clients and our adapters at this stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const queueNames = (stage = LOCAL_STAGE) => ({
  transitions: `${SERVICE}-${stage}-transitions`,
  deadLetters: `${SERVICE}-${stage}-dead-letters`,
});

export const tableNames = (stage = LOCAL_STAGE) => ({
  machines: `${SERVICE}-${stage}-machines`,
  history: `${SERVICE}-${stage}-history`,
});

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const PROJECT_DIR = join(__dirname, '..');
const SLS_BIN = join(PROJECT_DIR, 'node_modules', 'osls', 'bin', 'serverless.js');

/** Environment every `sls` command of the local stage needs: quiet, offline, dummy credentials. */
export function slsEnv(ports: StackPorts, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    FSM_HTTP_PORT: String(ports.http),
    FSM_LAMBDA_PORT: String(ports.lambda),
    FSM_DYNAMODB_PORT: String(ports.dynamodb),
    FSM_SQS_PORT: String(ports.sqs),
    ...extra,
  };
}

/**
 * Starts DynamoDB (dynalite) and SQS (local-aws-sqs) in this process, creates the queues, then
 * `sls offline start --stage local` in its own process group (which creates the tables and runs
 * the API, the transition processor and the state functions). `stop()` ends all of it.
 */
export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const ports: StackPorts = { ...DEFAULT_PORTS, ...options.ports };
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.splice(0).reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.dataDir });
    await listen(dynamo, ports.dynamodb);
    stoppers.push(() => close(dynamo));

    const sqsServer = await createSqsServer({
      port: ports.sqs,
      hostname: '127.0.0.1',
      accountId: LOCAL_ACCOUNT,
      emulateQueueCreationLifecycle: false,
    });
    stoppers.push(() => close(sqsServer));
    const { queueUrl, deadLetterQueueUrl } = await createQueues(ports.sqs, options.visibilityTimeout ?? 360);

    const buildDir = options.buildDir ?? '.esbuild';
    const offline = spawn(process.execPath, [SLS_BIN, 'offline', 'start', '--stage', LOCAL_STAGE], {
      cwd: PROJECT_DIR,
      env: slsEnv(ports, { FSM_BUILD_DIR: buildDir, ...options.env }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stoppers.push(async () => {
      await stopProcessGroup(offline);
      if (buildDir !== '.esbuild') await rm(join(PROJECT_DIR, buildDir), { recursive: true, force: true });
    });
    const apiUrl = `http://127.0.0.1:${ports.http}`;
    await waitUntilReady(offline, apiUrl, options.onOutput, options.startTimeoutMs ?? 90_000);

    const eventSource = startSqsEventSource({
      region: REGION,
      sqsEndpoint: `http://127.0.0.1:${ports.sqs}`,
      lambdaEndpoint: `http://127.0.0.1:${ports.lambda}`,
      queueUrl,
      queueArn: `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT}:${queueNames().transitions}`,
      functionName: `${SERVICE}-${LOCAL_STAGE}-transition`,
      credentials: LOCAL_CREDENTIALS,
      batchSize: LOCAL_BATCH_SIZE,
      pollers: LOCAL_POLLERS,
      onError: (error) => options.onOutput?.(`[event source] ${(error as Error).message}`),
    });
    stoppers.push(() => eventSource.stop());

    return {
      apiUrl,
      ports,
      queueUrl,
      deadLetterQueueUrl,
      offlinePid: offline.pid,
      env: {
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_REGION: REGION,
        SERVICE_PREFIX: `${SERVICE}-${LOCAL_STAGE}-`,
        TABLE_NAME: tableNames().machines,
        HISTORY_TABLE_NAME: tableNames().history,
        QUEUE_URL: queueUrl,
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${ports.dynamodb}`,
        SQS_ENDPOINT: `http://127.0.0.1:${ports.sqs}`,
        LAMBDA_ENDPOINT: `http://127.0.0.1:${ports.lambda}`,
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function createQueues(port: number, visibilityTimeout: number) {
  const sqs = new SQSClient({
    region: REGION,
    endpoint: `http://127.0.0.1:${port}`,
    credentials: LOCAL_CREDENTIALS,
  });
  const names = queueNames();
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: names.deadLetters, Attributes: { MessageRetentionPeriod: '1209600' } }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.transitions,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
  sqs.destroy();
  return { queueUrl: main.QueueUrl as string, deadLetterQueueUrl: dlq.QueueUrl as string };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function waitUntilReady(
  child: ChildProcess,
  apiUrl: string,
  onOutput: ((line: string) => void) | undefined,
  timeoutMs: number,
): Promise<void> {
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      onOutput?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`sls offline exited with code ${code} before it was ready:\n${output.join('\n')}`)),
    ),
  );
  exited.catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await Promise.race([probe(`${apiUrl}/machines?limit=1`), exited]);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`sls offline was not ready within ${timeoutMs} ms:\n${output.join('\n')}`);
}

async function probe(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.status < 500;
  } catch {
    return false;
  }
}

/** Ends `sls offline` and everything it started (it runs in its own process group). */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
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
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  signal('SIGKILL');
}
