import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledMessage } from '../../../domain/machine';
import type { StepQueue } from '../../application/ports';
import { traced } from '../../tracing';

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

/**
 * The transition queue in SQS: one message per step to run, `{ id, version, attempt }`.
 *
 * SQS bills per request, and one SendMessageBatch carries up to 10 messages. The transition
 * processor works on a batch of records at once (`track`), and a record sends one message at a
 * time and waits for it before it commits. So a send waits until every record still in progress
 * waits on one too (or `maxWaitMs` passed), and they all go out in one request: under load,
 * the steps of a batch cost one send instead of ten. A record alone, and a caller that tracks
 * nothing (the API), sends at once. Each send resolves only once SQS has its own message.
 */
export class SqsStepQueue implements StepQueue {
  private waiting: WaitingSend[] = [];
  private inProgress = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly maxWaitMs = DEFAULT_MAX_WAIT_MS,
  ) {}

  /** Runs one record's work, counting it among those whose sends are batched together. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inProgress++;
    try {
      return await work();
    } finally {
      this.inProgress--;
      this.flushWhenAllWait();
    }
  }

  send({ message, delaySeconds }: ScheduledMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        entry: { MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds },
        resolve,
        reject,
      });
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
  return traced(new SQSClient({ region: options.region, endpoint: options.endpoint }));
}
