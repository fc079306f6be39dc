import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { parseMachineDefinition } from '../domain/definition';
import { createMachine, type MachineRecord } from '../domain/machine';
import { step } from '../domain/step';
import { functionScope, readConfig } from '../handlers/config';
import { buildServices } from '../handlers/services';
import { mapLimit } from './stats';

/**
 * The ceiling for the local stack: the emulator calls one transition makes (read-and-lease, invoke
 * the no-op handler + write the previous event, send, commit, receive, delete), issued straight
 * from a loop at the same concurrency, with no SQS trigger and no serverless-offline handler
 * in between (the no-op handler itself still runs in serverless-offline).
 */
export async function runLimit(
  env: Record<string, string>,
  { machines, steps }: { machines: number; steps: number },
): Promise<{ transitions: number; wallSeconds: number; transitionsPerSecond: number }> {
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: env.SQS_ENDPOINT });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-limit-${randomUUID()}` }));
  const queueUrl = QueueUrl as string;
  const config = readConfig({ ...env, QUEUE_URL: queueUrl });
  const { store, queue, invoker } = buildServices(config);
  const definition = parseMachineDefinition(
    { state: 'STEP', config: { STEP: 'noop' }, object: { steps: steps + 1 } },
    functionScope(config),
  );
  const clock = () => ({ now: Date.now(), maxQueueDelaySeconds: 900 });

  const records = await mapLimit(Array.from({ length: machines }), 32, async () => {
    const { record } = createMachine(definition, { id: `limit-${randomUUID()}`, now: Date.now() });
    await store.create(record);
    return record;
  });

  const started = Date.now();
  await Promise.all(
    records.map(async (initial) => {
      let id = initial.id;
      for (let i = 0; i < steps; i++) {
        const lease = { token: randomUUID(), until: Date.now() + 60_000 };
        const record = (await store.leaseStep({ id, version: i, attempt: 1 }, lease, Date.now())) as MachineRecord;
        const [outcome] = await Promise.all([
          invoker.invoke(`${config.servicePrefix}noop`, { ...record, lease: undefined }),
          store.putLatestEvent(record),
        ]);
        const result = step({ ...record, lease }, outcome, clock());
        if (result.send) await queue.send(result.send);
        await store.commit(result.record, {
          version: record.version,
          attempt: record.attempt,
          token: lease.token,
          now: Date.now(),
        });
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }),
        );
        for (const message of Messages) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        }
        id = result.record.id;
      }
    }),
  );
  const wallSeconds = (Date.now() - started) / 1000;
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  const transitions = machines * steps;
  return { transitions, wallSeconds, transitionsPerSecond: transitions / wallSeconds };
}
