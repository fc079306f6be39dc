import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { parseMachineDefinition } from '../domain/definition';
import { PROCESSOR_TIMEOUT_SECONDS } from '../domain/limits';
import { createMachine, isFinished } from '../domain/machine';
import type { StateInvoker } from '../handlers/application/ports';
import { createStepProcessor, parseStepMessage } from '../handlers/application/stepProcessor';
import { functionScope, readConfig } from '../handlers/wiring/config';
import { buildServices } from '../handlers/wiring/services';
import { noop } from '../test-functions/faulty';
import { mapLimit } from './stats';

/** Receive loops, as many as the local event source runs. */
const POLLERS = 8;

/**
 * The ceiling for the local stack: the transition processor's own code (the same requests to the
 * same emulators, running on as it does) fed by plain receive loops that take full batches and
 * delete them in one request, with the state handler called as a plain function, and machines
 * added straight to the store and queue: no Lambda trigger, no serverless-offline, no HTTP invoke.
 */
export async function runLimit(
  env: Record<string, string>,
  { machines, steps }: { machines: number; steps: number },
): Promise<{ transitions: number; wallSeconds: number; transitionsPerSecond: number }> {
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: env.SQS_ENDPOINT });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-limit-${randomUUID()}` }));
  const queueUrl = QueueUrl as string;
  const config = readConfig({ ...env, QUEUE_URL: queueUrl });
  const services = buildServices(config);
  const invoker: StateInvoker = {
    invoke: async (_name, input) => ({ kind: 'returned', payload: await noop(input as never) }),
  };
  let committed = 0;
  /** When the last step was committed: the receive loops only notice the end a long poll later. */
  let lastCommitAt = 0;
  const processStep = createStepProcessor({
    ...services,
    invoker,
    scope: functionScope(config),
    leaseSeconds: config.leaseSeconds,
    newToken: randomUUID,
    // One line per committed step, a step run on to included.
    logStep: ({ outcome }) => {
      if (outcome !== 'committed') return;
      committed++;
      lastCommitAt = Date.now();
    },
  });
  const definition = parseMachineDefinition(
    { state: 'STEP', config: { STEP: 'noop' }, object: { steps } },
    functionScope(config),
  );

  // Each machine commits `steps` steps: the noop handler finishes it at the last one. Timed from
  // the first add, as the workload's wall time runs from the first machine's `created` event, and
  // the adds (each the record's put, then its first message) run while the receive loops do.
  const started = Date.now();
  let failed = false;
  const adding = mapLimit(Array.from({ length: machines }), 32, async () => {
    const machine = createMachine(definition, { id: `limit-${randomUUID()}`, now: Date.now() });
    if (!(await services.store.create(machine.record))) throw new Error('limit loop: an id clashed');
    await services.queue.send(machine.first);
    return machine;
  }).catch((error: unknown) => {
    failed = true;
    throw error;
  });
  const { queue } = services;
  const poll = async () => {
    while (!failed && committed < machines * steps) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) continue;
      // As the processor's entry point: the batch's sends together, each message with an invocation's time.
      const deadline = Date.now() + PROCESSOR_TIMEOUT_SECONDS * 1000;
      const budget = { remainingMs: () => deadline - Date.now() };
      await queue.batching(() =>
        Promise.all(
          Messages.map((message) =>
            queue.track(() => processStep(parseStepMessage(message.Body ?? '') as never, budget)),
          ),
        ),
      );
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  };
  const [created] = await Promise.all([adding, ...Array.from({ length: POLLERS }, poll)]);
  const wallSeconds = (lastCommitAt - started) / 1000;
  const records = await mapLimit(created, 32, ({ record }) => services.store.getWithLease(record.id));
  const unfinished = records.filter((record) => !record || !isFinished(record.status)).length;
  if (unfinished > 0) throw new Error(`limit loop: ${unfinished} machines did not finish`);
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  const transitions = machines * steps;
  return { transitions, wallSeconds, transitionsPerSecond: transitions / wallSeconds };
}
