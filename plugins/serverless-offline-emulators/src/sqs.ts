import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import {
  CreateQueueCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { type QueueDefinition, queueArn } from './cloudformation';
import { LOCAL_CREDENTIALS } from './credentials';
import type { TraceJournal } from './lineage';
import { iamActionOf, type Recorder } from './recorder';
import { listen, type Running } from './servers';
import { type Exchange, parseJson, tap, targetAction, userAgentAppId } from './tap';

const queueNameOf = (url: unknown) => (typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : undefined);

/** A message kept across a restart: what to send again, and when it is due. */
export interface SavedMessage {
  body: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  /** Epoch milliseconds when it becomes visible again (now or later). */
  visibleAt: number;
}

export interface QueueSnapshot {
  savedAt: string;
  queues: Record<string, SavedMessage[]>;
}

interface Tracked extends SavedMessage {
  queue: string;
  messageId: string;
}

/**
 * What the SQS API cannot show at shutdown: messages still delayed (sent with DelaySeconds, not
 * yet receivable) and messages in flight (received, not deleted, invisible until their visibility
 * timeout ends). It follows Send, Receive, Delete and ChangeMessageVisibility through the tap.
 */
export class MessageJournal {
  readonly delayed = new Map<string, Tracked>();
  readonly inFlight = new Map<string, Tracked>();
  private readonly visibility = new Map<string, number>();
  private readonly delays = new Map<string, number>();

  constructor(queues: { QueueName: string; Attributes: Record<string, string> }[] = []) {
    for (const q of queues) this.configure(q.QueueName, q.Attributes);
  }

  private configure(queue: string, attributes: Record<string, string>) {
    if (attributes.VisibilityTimeout !== undefined) this.visibility.set(queue, Number(attributes.VisibilityTimeout));
    if (attributes.DelaySeconds !== undefined) this.delays.set(queue, Number(attributes.DelaySeconds));
  }

  observe(action: string, request: Record<string, unknown>, response: Record<string, unknown>, now: number): void {
    if (action === 'CreateQueue') {
      this.configure(String(request.QueueName), (request.Attributes ?? {}) as Record<string, string>);
      return;
    }
    const queue = queueNameOf(request.QueueUrl);
    if (!queue) return;
    const queueDelay = this.delays.get(queue) ?? 0;
    if (action === 'SendMessage' && typeof response.MessageId === 'string') {
      this.sent(queue, response.MessageId, request, now, queueDelay);
    } else if (action === 'SendMessageBatch') {
      const entries = (request.Entries ?? []) as Record<string, unknown>[];
      for (const ok of (response.Successful ?? []) as { Id: string; MessageId: string }[]) {
        const entry = entries.find((e) => e.Id === ok.Id);
        if (entry) this.sent(queue, ok.MessageId, entry, now, queueDelay);
      }
    } else if (action === 'ReceiveMessage') {
      const timeout = Number(request.VisibilityTimeout ?? this.visibility.get(queue) ?? 30);
      for (const m of (response.Messages ?? []) as Record<string, unknown>[]) {
        this.delayed.delete(String(m.MessageId));
        this.inFlight.set(String(m.ReceiptHandle), {
          queue,
          messageId: String(m.MessageId),
          body: String(m.Body ?? ''),
          ...(m.MessageAttributes
            ? { messageAttributes: m.MessageAttributes as Record<string, MessageAttributeValue> }
            : {}),
          visibleAt: now + timeout * 1000,
        });
      }
    } else if (action === 'DeleteMessage') {
      this.inFlight.delete(String(request.ReceiptHandle));
    } else if (action === 'DeleteMessageBatch') {
      const entries = (request.Entries ?? []) as { Id: string; ReceiptHandle: string }[];
      for (const ok of (response.Successful ?? []) as { Id: string }[]) {
        const entry = entries.find((e) => e.Id === ok.Id);
        if (entry) this.inFlight.delete(entry.ReceiptHandle);
      }
    } else if (action === 'ChangeMessageVisibility') {
      const tracked = this.inFlight.get(String(request.ReceiptHandle));
      if (tracked) tracked.visibleAt = now + Number(request.VisibilityTimeout ?? 0) * 1000;
    } else if (action === 'PurgeQueue' || action === 'DeleteQueue') {
      for (const map of [this.delayed, this.inFlight]) {
        for (const [key, m] of map) if (m.queue === queue) map.delete(key);
      }
    } else if (action === 'SetQueueAttributes') {
      this.configure(queue, (request.Attributes ?? {}) as Record<string, string>);
    }
  }

  private sent(queue: string, messageId: string, input: Record<string, unknown>, now: number, queueDelay: number) {
    const delay = Number(input.DelaySeconds ?? queueDelay);
    if (!(delay > 0)) return;
    this.delayed.set(messageId, {
      queue,
      messageId,
      body: String(input.MessageBody ?? ''),
      ...(input.MessageAttributes
        ? { messageAttributes: input.MessageAttributes as Record<string, MessageAttributeValue> }
        : {}),
      ...(input.MessageGroupId ? { messageGroupId: String(input.MessageGroupId) } : {}),
      ...(input.MessageDeduplicationId ? { messageDeduplicationId: String(input.MessageDeduplicationId) } : {}),
      visibleAt: now + delay * 1000,
    });
  }

  /** Messages not receivable at `now`, by queue: still delayed, or in flight. */
  pending(now: number): Tracked[] {
    const seen = new Set<string>();
    const pending: Tracked[] = [];
    for (const m of [...this.delayed.values(), ...this.inFlight.values()]) {
      if (m.visibleAt <= now || seen.has(m.messageId)) continue;
      seen.add(m.messageId);
      pending.push(m);
    }
    return pending;
  }
}

export interface SqsOptions {
  port: number;
  host: string;
  region: string;
  accountId: string;
  recorder?: Recorder;
  /** Follow messages so they can be saved at shutdown. */
  journal?: MessageJournal;
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
    if (journal && exchange.status < 300) {
      journal.observe(action, request, response, exchange.startedAt + exchange.durationMs);
    }
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
  const server = createServer(recorder || journal || traces ? tap(listener, { onExchange }) : listener);
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

/**
 * Saves every message of `queues` that the next start should see again: the visible ones (received
 * here with a long visibility timeout, so after the event sources have stopped) and, from the
 * journal, those delayed or in flight, each with the moment it becomes visible.
 */
export async function snapshotQueues(
  url: string,
  region: string,
  queues: { QueueName: string; url: string }[],
  journal: MessageJournal,
): Promise<QueueSnapshot> {
  const now = Date.now();
  const snapshot: QueueSnapshot = { savedAt: new Date(now).toISOString(), queues: {} };
  const sqs = sqsClient(url, region);
  const drained = new Set<string>();
  try {
    for (const q of queues) {
      const saved: SavedMessage[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: q.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 43_200,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
          }),
        );
        if (Messages.length === 0) break;
        for (const m of Messages) {
          drained.add(m.MessageId as string);
          saved.push({
            body: m.Body ?? '',
            ...(m.MessageAttributes ? { messageAttributes: m.MessageAttributes } : {}),
            ...(m.Attributes?.MessageGroupId ? { messageGroupId: m.Attributes.MessageGroupId } : {}),
            ...(m.Attributes?.MessageDeduplicationId
              ? { messageDeduplicationId: m.Attributes.MessageDeduplicationId }
              : {}),
            visibleAt: now,
          });
        }
      }
      snapshot.queues[q.QueueName] = saved;
    }
  } finally {
    sqs.destroy();
  }
  for (const m of journal.pending(now)) {
    if (drained.has(m.messageId)) continue;
    const { queue, messageId: _, ...message } = m;
    snapshot.queues[queue]?.push(message);
  }
  return snapshot;
}

/** Sends the saved messages again, each delayed until it was due (at most SQS's 900 s). */
export async function restoreQueues(
  url: string,
  region: string,
  urls: Record<string, string>,
  snapshot: QueueSnapshot,
): Promise<number> {
  const sqs = sqsClient(url, region);
  const now = Date.now();
  let restored = 0;
  try {
    for (const [name, messages] of Object.entries(snapshot.queues)) {
      const queueUrl = urls[name];
      if (!queueUrl) continue;
      for (const m of messages) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: m.body,
            MessageAttributes: m.messageAttributes,
            MessageGroupId: m.messageGroupId,
            MessageDeduplicationId: m.messageDeduplicationId,
            DelaySeconds: m.messageGroupId
              ? undefined
              : Math.min(900, Math.max(0, Math.ceil((m.visibleAt - now) / 1000))),
          }),
        );
        restored++;
      }
    }
  } finally {
    sqs.destroy();
  }
  return restored;
}
