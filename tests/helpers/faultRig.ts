import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { parseMachineDefinition } from '../../domain/definition';
import { PROCESSOR_TIMEOUT_SECONDS } from '../../domain/limits';
import {
  createMachine,
  type HistoryEvent,
  type HistoryOwner,
  isFinished,
  type MachineRecord,
  type StepMessage,
} from '../../domain/machine';
import type { FaultPoints } from '../../handlers/application/commitExecutor';
import type { StateInvoker } from '../../handlers/application/ports';
import { readMachineWithHistory } from '../../handlers/application/readMachine';
import {
  createStepProcessor,
  type MessageDisposition,
  parseStepMessage,
} from '../../handlers/application/stepProcessor';
import { functionScope, readConfig } from '../../handlers/wiring/config';
import { buildServices, type Services } from '../../handlers/wiring/services';
import { currentStack } from './stack';

export type Processor = (message: StepMessage) => Promise<MessageDisposition>;

export interface DriveOptions {
  /** Each message is processed by all of these at the same moment (default: one processor). */
  processors?: Processor[];
  /** Extra copies of every message sent to the queue (SQS's at-least-once delivery, exaggerated). */
  duplicates?: number;
  /** Parallel receive loops. */
  workers?: number;
  /** Stop once this holds. */
  until: () => Promise<boolean>;
  timeoutMs?: number;
  /** Filled in as messages are processed, so `until` can look at it. */
  stats?: DriveStats;
}

export interface DriveStats {
  outcomes: Partial<Record<MessageDisposition, number>>;
  crashes: number;
  delivered: number;
}

/**
 * A queue of its own and in-process transition processors built from the real adapters, against
 * the local stack's DynamoDB, SQS and serverless-offline's Lambda endpoint. It lets a test
 * deliver messages twice, run two processors at once, and crash a processor at a fault point.
 */
export class FaultRig {
  readonly services: Services;
  /** Handler invocations per `id:version`. */
  readonly invocations = new Map<string, number>();
  /** Committed steps per `id:version:attempt`, from the processors' step log lines (a chain logs each). */
  readonly commits = new Map<string, number>();
  private readonly sqs: SQSClient;
  /** Machines a poll of allFinished found finished, not read again until a whole pass. */
  private readonly seenFinished = new Set<string>();
  /** The real Lambda invoker, counting what it is asked to invoke. */
  private readonly invoker: StateInvoker;

  private constructor(
    readonly queueUrl: string,
    readonly leaseSeconds: number,
    readonly maxQueueDelaySeconds: number,
  ) {
    const stack = currentStack();
    const config = readConfig({
      ...stack.env,
      QUEUE_URL: queueUrl,
      LEASE_SECONDS: String(leaseSeconds),
      MAX_QUEUE_DELAY_SECONDS: String(maxQueueDelaySeconds),
    });
    this.services = buildServices(config);
    const real = this.services.invoker;
    this.invoker = {
      invoke: (name, input, options) => {
        const { id, version } = input as { id: string; version: number };
        this.invocations.set(`${id}:${version}`, (this.invocations.get(`${id}:${version}`) ?? 0) + 1);
        return real.invoke(name, input, options);
      },
    };
    this.sqs = new SQSClient({ region: config.region, endpoint: config.endpoints.sqs });
  }

  static async create({ leaseSeconds = 3, maxQueueDelaySeconds = 900, visibilityTimeout = 2 } = {}) {
    const stack = currentStack();
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: stack.env.SQS_ENDPOINT });
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `fault-${randomUUID()}`,
        Attributes: { VisibilityTimeout: String(visibilityTimeout) },
      }),
    );
    sqs.destroy();
    return new FaultRig(QueueUrl as string, leaseSeconds, maxQueueDelaySeconds);
  }

  async dispose() {
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: this.queueUrl }));
    this.sqs.destroy();
  }

  /**
   * A transition processor as the deployed one runs: with `runOn`, a step due at once runs on in
   * the same call while the call, timed as an invocation of the deployed processor's timeout,
   * has time for it; without, every step goes through a message of its own.
   */
  processor(faults?: FaultPoints, { runOn = true } = {}): Processor {
    const processStep = createStepProcessor({
      ...this.services,
      invoker: this.invoker,
      scope: functionScope(this.services.config),
      leaseSeconds: this.leaseSeconds,
      maxQueueDelaySeconds: this.maxQueueDelaySeconds,
      newToken: randomUUID,
      faults,
      logStep: ({ id, version, attempt, outcome }) => {
        if (outcome !== 'committed') return;
        const key = `${id}:${version}:${attempt}`;
        this.commits.set(key, (this.commits.get(key) ?? 0) + 1);
      },
    });
    return (message) => {
      const deadline = Date.now() + PROCESSOR_TIMEOUT_SECONDS * 1000;
      return processStep(message, runOn ? { remainingMs: () => deadline - Date.now() } : undefined);
    };
  }

  /** Steps committed by the rig's processors, counted from their log lines. */
  committedSteps(): number {
    return [...this.commits.values()].reduce((a, b) => a + b, 0);
  }

  /** Adds a machine the way the API does, with its first message on this rig's queue. */
  async add(definition: Record<string, unknown>): Promise<string> {
    const { config, store, queue } = this.services;
    const parsed = parseMachineDefinition(definition, functionScope(config));
    const { record, first } = createMachine(parsed, { id: randomUUID(), now: Date.now() });
    if (!(await store.create(record))) throw new Error('id clash');
    await queue.send(first);
    return record.id;
  }

  get(id: string): Promise<MachineRecord | undefined> {
    return this.services.store.getWithLease(id);
  }

  /** The machine's whole history, or none when it is gone. */
  async history(id: string): Promise<HistoryEvent[]> {
    const record = await this.get(id);
    return record ? (await readMachineWithHistory(this.services.store, id, Date.now())).events : [];
  }

  /** The history items still stored for a machine as it was (e.g. before it was deleted). */
  async storedHistory(owner: HistoryOwner): Promise<HistoryEvent[]> {
    return (await this.services.store.history(owner, { limit: 1000 })).events;
  }

  /**
   * Whether every machine is finished, by one read of each. A drive polls this every 100 ms:
   * reading all 200 machines of the at-scale row each time was most of the suite's CPU, so a
   * poll first walks the machines not yet seen finished and stops at the first still running
   * (one read while they run), and only a whole pass that finds them all finished says yes (a
   * redrive can take a finished machine back to RUNNING).
   */
  async allFinished(ids: string[]): Promise<boolean> {
    const finished = async (id: string) => {
      const record = await this.get(id);
      return record !== undefined && isFinished(record.status);
    };
    for (const id of ids) {
      if (this.seenFinished.has(id)) continue;
      if (!(await finished(id))) return false;
      this.seenFinished.add(id);
    }
    const confirmed = await Promise.all(ids.map(finished));
    ids.forEach((id, i) => {
      if (!confirmed[i]) this.seenFinished.delete(id);
    });
    return confirmed.every(Boolean);
  }

  /**
   * Every machine finished and nothing left in the rig's queue: every message, copies and
   * deferrals included, handled and deleted. Where a drive delivers copies, it runs until this
   * holds: a chain run on to a machine's end can finish it before the copies of its first
   * message are even received.
   */
  async settled(ids: string[]): Promise<boolean> {
    return (await this.allFinished(ids)) && (await this.drained());
  }

  private async drained(): Promise<boolean> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesDelayed) === 0;
  }

  /** Receives and processes messages until `until` holds; a processor that throws "crashed". */
  async drive(options: DriveOptions): Promise<DriveStats> {
    const processors = options.processors ?? [this.processor()];
    const stats: DriveStats = options.stats ?? newStats();
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let done = false;

    const handle = async (message: Message) => {
      stats.delivered++;
      const isCopy = message.MessageAttributes?.copy !== undefined;
      if (!isCopy) {
        for (let i = 0; i < (options.duplicates ?? 0); i++) {
          await this.sqs.send(
            new SendMessageCommand({
              QueueUrl: this.queueUrl,
              MessageBody: message.Body,
              MessageAttributes: { copy: { DataType: 'String', StringValue: 'yes' } },
            }),
          );
        }
      }
      const step = parseStepMessage(message.Body ?? '');
      if (!step) throw new Error(`unexpected message ${message.Body}`);
      const results = await Promise.allSettled(processors.map((process) => process(step)));
      for (const result of results) {
        if (result.status === 'fulfilled') stats.outcomes[result.value] = (stats.outcomes[result.value] ?? 0) + 1;
        else stats.crashes++;
      }
      // A crashed processor never acknowledges: SQS delivers the message again later.
      if (results.every((r) => r.status === 'fulfilled')) {
        await this.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    };

    const worker = async () => {
      while (!done) {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
          }),
        );
        await Promise.all(Messages.map(handle));
      }
    };
    const watcher = async () => {
      while (!(await options.until())) {
        if (Date.now() > deadline) {
          done = true;
          throw new Error(`drive: not done within ${options.timeoutMs ?? 60_000} ms; ${JSON.stringify(stats)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      done = true;
    };
    await Promise.all([watcher(), ...Array.from({ length: options.workers ?? 1 }, worker)]);
    return stats;
  }
}

export const newStats = (): DriveStats => ({ outcomes: {}, crashes: 0, delivered: 0 });

/** Throws at a fault point the first time each step reaches it: one crash per step. */
export function crashOncePerStep(): (message: StepMessage) => void {
  const crashed = new Set<string>();
  return (message) => {
    const key = `${message.id}:${message.version}:${message.attempt}:${message.woken ?? 0}`;
    if (crashed.has(key)) return;
    crashed.add(key);
    throw new Error(`injected crash at ${key}`);
  };
}
