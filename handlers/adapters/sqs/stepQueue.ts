import { AsyncLocalStorage } from 'node:async_hooks';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledMessage } from '../../../domain/machine';
import type { StepQueue } from '../../application/ports';

/** SendMessageBatch's limit. */
const MAX_BATCH = 10;
/** How long a send may wait for the rest of its batch of records to reach theirs. */
const DEFAULT_MAX_WAIT_MS = 10;

interface WaitingSend {
  /** The entry but its `Id`, which is its place in the request it goes out in. */
  entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The records of one invocation in progress and the sends they wait on. */
class SendGroup {
  private waiting: WaitingSend[] = [];
  private inProgress = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sendBatch: (batch: WaitingSend[]) => Promise<void>,
    private readonly maxWaitMs: number,
  ) {}

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inProgress++;
    try {
      return await work();
    } finally {
      this.inProgress--;
      this.flushWhenAllWait();
    }
  }

  send(entry: WaitingSend['entry']): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      this.flushWhenAllWait();
      if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flushWhenAllWait() {
    if (this.waiting.length > 0 && this.waiting.length >= Math.min(this.inProgress, MAX_BATCH)) this.flush();
  }

  private flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0) void this.sendBatch(this.waiting.splice(0, MAX_BATCH));
  }
}

/**
 * The transition queue in SQS: one message per step to run, `{ id, version, attempt }`.
 *
 * SQS bills per request, and one SendMessageBatch carries up to 10 messages. The transition
 * processor works on a batch of records at once (`batching`, then `track` per record), and a
 * record sends one message at a time and waits for it before it commits. So a send waits until
 * every record of its invocation still in progress waits on one too (or `maxWaitMs` passed), and
 * they all go out in one request: under load, the steps of a batch cost one send instead of ten.
 * A record alone, and a caller outside `batching` (the API), sends at once. Each send resolves
 * only once SQS has its own message.
 *
 * The group is the invocation's own (AsyncLocalStorage), never shared with another invocation
 * the same process runs at once: locally the functions run concurrently in one process, and a
 * request carries the trace header of the invocation that sends it (Lambda's loop detection
 * counts a chain by it), as on AWS where a container runs one invocation at a time.
 */
export class SqsStepQueue implements StepQueue {
  private readonly groups = new AsyncLocalStorage<SendGroup>();

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly maxWaitMs = DEFAULT_MAX_WAIT_MS,
  ) {}

  /** Runs one invocation's records, whose sends go out together. */
  batching<T>(work: () => Promise<T>): Promise<T> {
    return this.groups.run(new SendGroup((batch) => this.sendBatch(batch), this.maxWaitMs), work);
  }

  /** Runs one record's work, counting it among those of its invocation whose sends are batched together. */
  track<T>(work: () => Promise<T>): Promise<T> {
    return this.groups.getStore()?.track(work) ?? work();
  }

  send({ message, delaySeconds }: ScheduledMessage): Promise<void> {
    const entry = { MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds };
    const group = this.groups.getStore();
    if (group) return group.send(entry);
    return new Promise((resolve, reject) => void this.sendBatch([{ entry, resolve, reject }]));
  }

  private async sendBatch(batch: WaitingSend[]) {
    try {
      const { Failed = [] } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map(({ entry }, index) => ({ ...entry, Id: String(index) })),
        }),
      );
      const failures = new Map(Failed.map((failure) => [failure.Id, failure]));
      batch.forEach(({ resolve, reject }, index) => {
        const failure = failures.get(String(index));
        if (failure) reject(new Error(`SendMessageBatch entry failed: ${failure.Code} ${failure.Message ?? ''}`));
        else resolve();
      });
    } catch (error) {
      for (const { reject } of batch) reject(error as Error);
    }
  }
}

export function createSqsClient(options: { region: string; endpoint?: string }): SQSClient {
  return new SQSClient({ region: options.region, endpoint: options.endpoint });
}
