import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** A long poll answered this fast found a message waiting: there is a backlog. */
const QUICK_ANSWER_MS = 15;

export interface EventSourceOptions {
  region: string;
  sqsEndpoint: string;
  lambdaEndpoint: string;
  queueUrl: string;
  queueArn: string;
  functionName: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Most messages per invocation under load, at most 10 (SQS's receive limit). */
  batchSize: number;
  /** Concurrent pollers; AWS starts an SQS event source with 5. */
  pollers: number;
  onError?: (error: unknown) => void;
}

/**
 * The local stand-in for Lambda's SQS event source mapping: pollers that invoke the function
 * (through serverless-offline's Lambda endpoint) with the messages that have arrived, up to
 * `batchSize`, never waiting to fill a batch; they delete the messages that succeeded and
 * leave those named in `batchItemFailures` (or all, if the invocation failed) to come back after
 * the visibility timeout and, after maxReceiveCount, go to the dead-letter queue.
 */
export function startSqsEventSource(options: EventSourceOptions): { stop(): Promise<void> } {
  const { credentials } = options;
  const sqs = new SQSClient({ region: options.region, endpoint: options.sqsEndpoint, credentials });
  const lambda = new LambdaClient({
    region: options.region,
    endpoint: options.lambdaEndpoint,
    credentials,
    maxAttempts: 1,
  });
  const abort = new AbortController();

  const toRecord = (message: Message): SQSEvent['Records'][number] => ({
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as never,
    messageAttributes: (message.MessageAttributes ?? {}) as never,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  });

  async function deliver(messages: Message[]) {
    const event: SQSEvent = { Records: messages.map(toRecord) };
    const response = await lambda.send(
      new InvokeCommand({
        FunctionName: options.functionName,
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
    if (response.FunctionError) return; // every message comes back after the visibility timeout
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    const failed = new Set(
      ((text ? JSON.parse(text) : {}) as Partial<SQSBatchResponse>).batchItemFailures?.map((f) => f.itemIdentifier),
    );
    const done = messages.filter((m) => !failed.has(m.MessageId as string));
    if (done.length === 0) return;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }

  /**
   * Quiet queue: long-poll for one message, which local-aws-sqs hands over within ~10 ms.
   * Backlog (a message was there at once): take up to `batchSize` without waiting, as Lambda's
   * pollers do under load; local-aws-sqs answers such a receive early only with a full batch, so
   * a short one means the backlog is gone and the poller goes back to long polling.
   */
  async function poll() {
    let backlog = false;
    while (!abort.signal.aborted) {
      try {
        const asked = Date.now();
        const { Messages = [] }: { Messages?: Message[] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: backlog ? options.batchSize : 1,
            WaitTimeSeconds: backlog ? 0 : 20,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        backlog = backlog ? Messages.length === options.batchSize : Date.now() - asked < QUICK_ANSWER_MS;
        if (Messages.length > 0) await deliver(Messages);
      } catch (error) {
        backlog = false;
        if (abort.signal.aborted) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  const pollers = Array.from({ length: options.pollers }, poll);
  return {
    async stop() {
      abort.abort();
      await Promise.allSettled(pollers);
      sqs.destroy();
      lambda.destroy();
    },
  };
}
