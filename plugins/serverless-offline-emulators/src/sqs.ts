import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { type QueueDefinition, queueArn } from './cloudformation';
import { LOCAL_CREDENTIALS } from './credentials';
import type { TraceJournal } from './lineage';
import { type QueueJournal, queueNameOf, type SavedMessage } from './queueJournal';
import { iamActionOf, type Recorder } from './recorder';
import { listen, type Running } from './servers';
import { type Exchange, parseJson, tap, targetAction, userAgentAppId } from './tap';

export interface SqsOptions {
  port: number;
  host: string;
  region: string;
  accountId: string;
  recorder?: Recorder;
  /** Journal every accepted send, delete and visibility change, before answering (`--persist`). */
  journal?: QueueJournal;
  /** Keep each sent message's trace header (its AWSTraceHeader) for the event sources' loop detection. */
  traces?: TraceJournal;
  eventSourceAgent: string;
}

export function sqsResources(
  action: string,
  body: Record<string, unknown>,
  arns: { region: string; accountId: string },
) {
  const queue = queueNameOf(body.QueueUrl) ?? (typeof body.QueueName === 'string' ? body.QueueName : undefined);
  if (queue) return [queueArn(arns, queue)];
  return action === 'ListQueues' ? ['*'] : [];
}

/** local-aws-sqs in this process, with a recorder and a journal tapping every exchange. */
export async function startSqs(options: SqsOptions): Promise<Running> {
  const { requestHandler } = createRequestHandler({
    port: options.port,
    hostname: options.host,
    region: options.region,
    accountId: options.accountId,
    emulateQueueCreationLifecycle: false,
  });
  const listener = requestHandler as RequestListener;
  const { recorder, journal, traces } = options;
  const onExchange = (exchange: Exchange) => {
    const action = targetAction(exchange.headers);
    if (!action) return;
    const request = parseJson(exchange.request);
    const response = parseJson(exchange.response);
    if (traces && exchange.status < 300) {
      const header = exchange.headers['x-amzn-trace-id'];
      traces.observe(action, typeof header === 'string' ? header : undefined, request, response);
    }
    if (!recorder) return;
    const fn = userAgentAppId(exchange.headers);
    const errorType = exchange.status >= 400 ? String(response.__type ?? 'Error') : undefined;
    recorder.record({
      kind: 'request',
      at: exchange.startedAt,
      service: 'sqs',
      action,
      iamAction: iamActionOf('sqs', action),
      resources: sqsResources(action, request, options),
      ...(fn ? { function: fn } : {}),
      ...(isEventSource(exchange.headers, options.eventSourceAgent) ? { eventSource: 'sqs' as const } : {}),
      status: exchange.status,
      ...(errorType ? { error: errorType.slice(errorType.lastIndexOf('#') + 1) } : {}),
      durationMs: exchange.durationMs,
    });
  };
  const beforeAnswer = (exchange: Exchange) => {
    const action = targetAction(exchange.headers);
    if (!action || exchange.status >= 300) return;
    journal?.observe(action, parseJson(exchange.request), parseJson(exchange.response), Date.now());
  };
  const server = createServer(
    recorder || journal || traces ? tap(listener, { onExchange, ...(journal ? { beforeAnswer } : {}) }) : listener,
  );
  server.keepAliveTimeout = 65_000;
  await listen(server, options.port, options.host);
  return { server, url: `http://${options.host}:${options.port}` };
}

export function isEventSource(headers: IncomingMessage['headers'], agent: string): boolean {
  const ua = `${headers['user-agent'] ?? ''} ${headers['x-amz-user-agent'] ?? ''}`;
  return ua.includes(agent);
}

export function sqsClient(url: string, region: string): SQSClient {
  return new SQSClient({ region, endpoint: url, credentials: LOCAL_CREDENTIALS });
}

/** Creates the queues (dead-letter queues first). Returns each queue's URL by logical id. */
export async function createQueues(
  url: string,
  region: string,
  queues: QueueDefinition[],
): Promise<Record<string, string>> {
  const sqs = sqsClient(url, region);
  const urls: Record<string, string> = {};
  try {
    for (const q of queues) {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: q.QueueName, Attributes: q.Attributes }));
      urls[q.logicalId] = QueueUrl as string;
    }
  } finally {
    sqs.destroy();
  }
  return urls;
}

/** Sends the saved messages again, each delayed until it was due (at most SQS's 900 s), ten to a request. */
export async function restoreQueues(
  url: string,
  region: string,
  urls: Record<string, string>,
  messages: SavedMessage[],
): Promise<number> {
  const sqs = sqsClient(url, region);
  const now = Date.now();
  const byQueue = new Map<string, SavedMessage[]>();
  for (const m of messages) {
    if (!urls[m.queue]) continue;
    const queued = byQueue.get(m.queue) ?? [];
    queued.push(m);
    byQueue.set(m.queue, queued);
  }
  let restored = 0;
  try {
    for (const [queue, queued] of byQueue) {
      for (let i = 0; i < queued.length; i += 10) {
        const batch = queued.slice(i, i + 10);
        const { Failed = [] } = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: urls[queue],
            Entries: batch.map((m, n) => ({
              Id: String(n),
              MessageBody: m.body,
              MessageAttributes: m.messageAttributes,
              MessageGroupId: m.messageGroupId,
              MessageDeduplicationId: m.messageDeduplicationId,
              DelaySeconds: m.messageGroupId
                ? undefined
                : Math.min(900, Math.max(0, Math.ceil((m.visibleAt - now) / 1000))),
            })),
          }),
        );
        if (Failed.length > 0) throw new Error(`restoring ${queue}: ${Failed.map((f) => f.Message).join('; ')}`);
        restored += batch.length;
      }
    }
  } finally {
    sqs.destroy();
  }
  return restored;
}
