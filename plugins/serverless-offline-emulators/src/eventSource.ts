import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { invocationsOf, MAX_RECURSIVE_INVOCATIONS, nextInvocation, type TraceJournal } from './lineage';
import type { Recorder } from './recorder';

/** A long poll answered this fast found a message waiting: there is a backlog. */
const QUICK_ANSWER_MS = 15;

export interface EventSourceOptions {
  region: string;
  sqsEndpoint: string;
  lambdaEndpoint: string;
  queueUrl: string;
  queueArn: string;
  /** The function's key in serverless.yml, and its deployed name and ARN. */
  functionKey: string;
  functionName: string;
  functionArn: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Most messages per invocation (serverless.yml `batchSize`, default 10). */
  batchSize: number;
  /** `maximumBatchingWindow` in seconds: wait this long to fill a batch (0: never wait). */
  batchingWindowSeconds: number;
  /** Concurrent invocations (`maximumConcurrency`, else the plugin's `pollers`). */
  pollers: number;
  /** `functionResponseType: ReportBatchItemFailures`: honour `batchItemFailures`. */
  reportBatchItemFailures: boolean;
  /** Sent in the User-Agent so the recorder tells our receives and deletes apart. */
  userAgent: string;
  /**
   * The function's RecursiveLoop (serverless.yml `recursiveLoop`): `Allow` lets a chain invoke it
   * any number of times; otherwise (Terminate, Lambda's default) the 17th invocation is stopped.
   */
  recursiveLoop?: 'Allow' | 'Terminate';
  /** Trace headers of the queued messages (the SQS tap fills it). */
  traces?: TraceJournal;
  recorder?: Recorder;
  onError?: (error: unknown) => void;
}

interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, unknown>;
  md5OfBody: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

/** The message ids an invocation's answer names in batchItemFailures; `all` when it failed. */
export function failedMessages(
  response: { FunctionError?: string; Payload?: Uint8Array },
  reportBatchItemFailures: boolean,
  messageIds: string[],
): Set<string> {
  if (response.FunctionError) return new Set(messageIds);
  if (!reportBatchItemFailures) return new Set();
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  let answer: unknown;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    return new Set(messageIds); // Lambda treats an unparsable response as a complete failure
  }
  const failures = (answer as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)?.batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return new Set(messageIds);
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    // An empty or unknown identifier fails the whole batch, as on AWS.
    if (typeof id !== 'string' || !messageIds.includes(id)) return new Set(messageIds);
    failed.add(id);
  }
  return failed;
}

/**
 * The local stand-in for Lambda's SQS event source mapping: pollers that invoke the function
 * (through serverless-offline's Lambda endpoint) with the messages that have arrived, up to
 * `batchSize`; they delete the messages that succeeded and leave those named in
 * `batchItemFailures` (or all, if the invocation failed) to come back after the visibility timeout
 * and, after maxReceiveCount, go to the dead-letter queue.
 */
export function startSqsEventSource(options: EventSourceOptions): { stop(): Promise<void> } {
  const { credentials } = options;
  const customUserAgent = [[options.userAgent]] as [string][];
  const sqs = new SQSClient({
    region: options.region,
    endpoint: options.sqsEndpoint,
    credentials,
    userAgentAppId: options.functionKey,
    customUserAgent,
  });
  const lambda = new LambdaClient({
    region: options.region,
    endpoint: options.lambdaEndpoint,
    credentials,
    maxAttempts: 1,
    userAgentAppId: options.functionKey,
    customUserAgent,
  });
  const abort = new AbortController();

  /** The message's AWSTraceHeader: the one it was sent with. */
  const traceOf = (message: Message): string | undefined =>
    message.Attributes?.AWSTraceHeader ?? options.traces?.get(message.MessageId as string);

  const toRecord = (message: Message): SqsRecord => ({
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? '',
    attributes: {
      ...((message.Attributes ?? {}) as Record<string, string>),
      ...(traceOf(message) ? { AWSTraceHeader: traceOf(message) as string } : {}),
    },
    messageAttributes: (message.MessageAttributes ?? {}) as Record<string, unknown>,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  });

  /**
   * Lambda's recursive loop detection: a message whose chain has already invoked the function 16
   * times is not delivered (nor deleted): like any message not processed, it comes back after the
   * visibility timeout, is stopped again, and after the queue's maxReceiveCount goes to its
   * dead-letter queue. The others go on, in an invocation whose trace counts one more hop.
   */
  async function deliver(received: Message[]) {
    const started = Date.now();
    // Who was invoked, from where, when: the same for both records of this delivery.
    const invocation = {
      kind: 'invocation',
      at: started,
      trigger: 'sqs',
      function: options.functionKey,
      functionArn: options.functionArn,
      eventSourceArn: options.queueArn,
    } as const;
    const hopsOf = (m: Message) => invocationsOf(traceOf(m), options.functionArn);
    const stopped =
      options.recursiveLoop === 'Allow' ? [] : received.filter((m) => hopsOf(m) >= MAX_RECURSIVE_INVOCATIONS);
    if (stopped.length > 0) {
      options.recorder?.record({
        ...invocation,
        messages: stopped.length,
        failures: stopped.length,
        error: 'RecursiveInvocationStopped',
        hops: Math.max(...stopped.map(hopsOf)) + 1,
        durationMs: 0,
      });
    }
    const messages = received.filter((m) => !stopped.includes(m));
    if (messages.length === 0) return;
    // The batch's trace: its longest chain's, one invocation further.
    const longest = messages.reduce((a, b) => (hopsOf(b) > hopsOf(a) ? b : a));
    const trace = nextInvocation(traceOf(longest), options.functionArn);
    const ids = messages.map((m) => m.MessageId as string);
    let failed: Set<string>;
    let error: string | undefined;
    try {
      const command = new InvokeCommand({
        FunctionName: options.functionName,
        Payload: new TextEncoder().encode(JSON.stringify({ Records: messages.map(toRecord) })),
      });
      // What Lambda hands the invocation as _X_AMZN_TRACE_ID (the plugin scopes it per invocation).
      command.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { headers: Record<string, string> }).headers['x-amzn-trace-id'] = trace;
          return next(args);
        },
        { step: 'build', name: 'lineageTraceHeader' },
      );
      const response = await lambda.send(command);
      failed = failedMessages(response, options.reportBatchItemFailures, ids);
      error = response.FunctionError;
    } catch (invokeError) {
      failed = new Set(ids);
      error = (invokeError as Error).name;
    }
    options.recorder?.record({
      ...invocation,
      messages: messages.length,
      failures: failed.size,
      ...(error ? { error } : {}),
      hops: hopsOf(longest) + 1,
      durationMs: Date.now() - started,
    });
    const done = messages.filter((m) => !failed.has(m.MessageId as string));
    if (done.length === 0) return;
    for (const m of done) options.traces?.forget(m.MessageId as string);
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
   * a short one means the backlog is gone and the poller goes back to long polling. With a
   * batching window, every receive asks for a full batch and waits up to the window (at most
   * SQS's 20 s long poll) to fill it.
   */
  async function poll() {
    const windowSeconds = Math.min(20, Math.max(0, Math.ceil(options.batchingWindowSeconds)));
    let backlog = false;
    while (!abort.signal.aborted) {
      try {
        const asked = Date.now();
        const batch: boolean = backlog || windowSeconds > 0;
        const { Messages = [] }: { Messages?: Message[] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: batch ? options.batchSize : 1,
            WaitTimeSeconds: windowSeconds > 0 ? windowSeconds : backlog ? 0 : 20,
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
