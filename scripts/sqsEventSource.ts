import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export interface EventSourceOptions {
  region: string;
  sqsEndpoint: string;
  lambdaEndpoint: string;
  queueUrl: string;
  queueArn: string;
  functionName: string;
  /** Messages per invocation, at most 10 (SQS's receive limit); see LOCAL_BATCH_SIZE. */
  batchSize: number;
  /** Concurrent pollers; AWS starts an SQS event source with 5. */
  pollers: number;
  onError?: (error: unknown) => void;
}

/**
 * The local stand-in for Lambda's SQS event source mapping: long-polling pollers that invoke the
 * function (through serverless-offline's Lambda endpoint) with whatever messages have arrived, up
 * to `batchSize`, without waiting to fill a batch; they delete the messages that succeeded and
 * leave those named in `batchItemFailures` (or all, if the invocation failed) to come back after
 * the visibility timeout and, after maxReceiveCount, go to the dead-letter queue.
 */
export function startSqsEventSource(options: EventSourceOptions): { stop(): Promise<void> } {
  const sqs = new SQSClient({ region: options.region, endpoint: options.sqsEndpoint });
  const lambda = new LambdaClient({ region: options.region, endpoint: options.lambdaEndpoint, maxAttempts: 1 });
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

  async function poll() {
    while (!abort.signal.aborted) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: 20,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        if (Messages.length > 0) await deliver(Messages);
      } catch (error) {
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
