import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../handlers/config';
import { buildServices } from '../handlers/wiring';
import { DEFAULT_PORTS, type LocalStack, startLocalStack, useLocalCredentials } from './localStack';

/**
 * With --persist the machines survive a restart but their queued messages do not (the SQS
 * emulator keeps them in memory): send each RUNNING machine's current step again. A duplicate
 * of a message that still exists is dropped by the transition processor, so this is always safe.
 */
async function requeueRunningMachines(stack: LocalStack): Promise<number> {
  const { store, queue } = buildServices(readConfig(stack.env));
  let requeued = 0;
  let after: Awaited<ReturnType<typeof store.pageByStatus>>['keys'][number] | undefined;
  for (;;) {
    const page = await store.pageByStatus('RUNNING', 100, after);
    for (const key of page.keys) {
      const record = await store.get(key.id);
      if (record?.status !== 'RUNNING') continue;
      await queue.send({
        message: { id: record.id, version: record.version, attempt: record.attempt },
        delaySeconds: 0,
      });
      requeued++;
    }
    after = page.keys.at(-1);
    if (!page.more || !after) return requeued;
  }
}

/**
 * `npm start`: the whole service on this machine. Ports come from FSM_HTTP_PORT, FSM_LAMBDA_PORT,
 * FSM_DYNAMODB_PORT and FSM_SQS_PORT; `--persist` keeps DynamoDB's data in .local-data/.
 */
async function main() {
  useLocalCredentials();
  const { values } = parseArgs({ options: { persist: { type: 'boolean', default: false } } });
  const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const dataDir = values.persist ? join(__dirname, '..', '.local-data', 'dynamodb') : undefined;
  if (dataDir) await mkdir(dataDir, { recursive: true });

  const started = Date.now();
  console.log('starting DynamoDB and SQS emulators and serverless offline ...');
  const stack = await startLocalStack({
    ports: {
      http: port('FSM_HTTP_PORT', DEFAULT_PORTS.http),
      lambda: port('FSM_LAMBDA_PORT', DEFAULT_PORTS.lambda),
      dynamodb: port('FSM_DYNAMODB_PORT', DEFAULT_PORTS.dynamodb),
      sqs: port('FSM_SQS_PORT', DEFAULT_PORTS.sqs),
    },
    dataDir,
    onOutput: process.env.FSM_VERBOSE ? (line) => console.log(`[sls] ${line}`) : undefined,
  });

  if (dataDir) {
    const requeued = await requeueRunningMachines(stack);
    if (requeued > 0) console.log(`resumed ${requeued} RUNNING machine(s) kept in ${dataDir}`);
  }

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping ...');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const { ports } = stack;
  console.log(`
serverless-statemachine is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)

  API        ${stack.apiUrl}
  DynamoDB   http://127.0.0.1:${ports.dynamodb} (dynalite, ${dataDir ? `data in ${dataDir}` : 'in memory'})
  SQS        http://127.0.0.1:${ports.sqs} (local-aws-sqs, queue ${stack.queueUrl})
  Lambda     http://127.0.0.1:${ports.lambda} (serverless offline)

Try it:
  curl -s -X POST ${stack.apiUrl}/machines -H 'content-type: application/json' -d @examples/fsm.json
  curl -s ${stack.apiUrl}/machines

Press Ctrl-C to stop.`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
