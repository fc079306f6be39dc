import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

export const queueNameOf = (url: unknown) =>
  typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : undefined;

/** A message kept across a restart: what to send again, and when it is due. */
export interface SavedMessage {
  queue: string;
  body: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  /** Epoch milliseconds when it becomes visible (now or later). */
  visibleAt: number;
}

/** One line of the journal. */
type Entry =
  | ({ op: 'send'; id: string } & SavedMessage)
  | { op: 'delete'; id: string }
  | { op: 'visibility'; id: string; visibleAt: number }
  | { op: 'purge'; queue: string };

/** What one line does to the messages in the queues, by message id. */
function apply(live: Map<string, SavedMessage>, entry: Entry): void {
  if (entry.op === 'send') {
    const { op: _, id, ...message } = entry;
    live.set(id, message);
  } else if (entry.op === 'delete') {
    live.delete(entry.id);
  } else if (entry.op === 'visibility') {
    const message = live.get(entry.id);
    if (message) message.visibleAt = entry.visibleAt;
  } else {
    for (const [id, message] of live) if (message.queue === entry.queue) live.delete(id);
  }
}

/** The messages a journal's lines leave in the queues, by message id. A torn last line (a crash mid-write) is skipped. */
export function replay(text: string): Map<string, SavedMessage> {
  const live = new Map<string, SavedMessage>();
  for (const line of text.split('\n')) {
    let entry: Entry;
    try {
      entry = JSON.parse(line) as Entry;
    } catch {
      continue;
    }
    apply(live, entry);
  }
  return live;
}

/** How often written lines are forced to the disk (fdatasync); see plugins/serverless-offline-emulators/README.md "How it works, and why". */
const SYNC_INTERVAL_MS = 1000;

/**
 * The local queues made as durable as SQS with `--persist`: an append-only journal of every
 * accepted send, delete, visibility change and purge, written (to the OS, synchronously) before
 * the emulator's answer leaves, so a message whose send was acknowledged survives `kill -9`.
 * It follows the SQS API through the tap; receives are not journaled, because a restart ends
 * every consumer: a message in flight at a crash is due again at once.
 *
 * `open` reads the previous journal and starts the next one in `<file>.next`; `restored` (once
 * the previous messages are sent again) syncs and renames it over the old one, so a crash at any
 * point leaves one whole journal. It is compacted again while running, when it grows.
 */
export class QueueJournal {
  private fd: number;
  private readonly live = new Map<string, SavedMessage>();
  /** Receipt handle -> message id, and back: a delete names a receipt, the journal a message. */
  private readonly receipts = new Map<string, string>();
  private readonly receiptOf = new Map<string, string>();
  private readonly delays = new Map<string, number>();
  private written = 0;
  private compactAt: number;
  /** Until `restored`: `file` is the previous journal, which only `restored` may replace. */
  private restoring = true;
  private dirty = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly file: string,
    queues: { QueueName: string; Attributes: Record<string, string> }[],
    private readonly compactAfterBytes: number,
  ) {
    this.compactAt = compactAfterBytes;
    for (const q of queues) this.configure(q.QueueName, q.Attributes);
    this.fd = openSync(`${file}.next`, 'w');
    this.timer = setInterval(() => this.sync(), SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /** Opens a new journal at `file`; returns it with the messages the previous one left (none if there was none). */
  static open(
    file: string,
    queues: { QueueName: string; Attributes: Record<string, string> }[] = [],
    { compactAfterBytes = COMPACT_AFTER_BYTES } = {},
  ): { journal: QueueJournal; previous: SavedMessage[] } {
    const previous = existsSync(file) ? [...replay(readFileSync(file, 'utf8')).values()] : [];
    return { journal: new QueueJournal(file, queues, compactAfterBytes), previous };
  }

  private configure(queue: string, attributes: Record<string, string>) {
    if (attributes.DelaySeconds !== undefined) this.delays.set(queue, Number(attributes.DelaySeconds));
  }

  /** The previous journal's messages are in the queues again (journaled anew): this journal replaces it. */
  restored(): void {
    fdatasyncSync(this.fd);
    renameSync(`${this.file}.next`, this.file);
    this.restoring = false;
  }

  observe(action: string, request: Record<string, unknown>, response: Record<string, unknown>, now: number): void {
    if (action === 'CreateQueue' || action === 'SetQueueAttributes') {
      const queue = action === 'CreateQueue' ? String(request.QueueName) : queueNameOf(request.QueueUrl);
      if (queue) this.configure(queue, (request.Attributes ?? {}) as Record<string, string>);
      return;
    }
    const queue = queueNameOf(request.QueueUrl);
    if (!queue) return;
    const entries: Entry[] = [];
    const sent = (id: unknown, input: Record<string, unknown>) => {
      if (typeof id !== 'string') return;
      const delay = Number(input.DelaySeconds ?? this.delays.get(queue) ?? 0);
      entries.push({
        op: 'send',
        id,
        queue,
        body: String(input.MessageBody ?? ''),
        ...(input.MessageAttributes
          ? { messageAttributes: input.MessageAttributes as Record<string, MessageAttributeValue> }
          : {}),
        ...(input.MessageGroupId ? { messageGroupId: String(input.MessageGroupId) } : {}),
        ...(input.MessageDeduplicationId ? { messageDeduplicationId: String(input.MessageDeduplicationId) } : {}),
        visibleAt: now + Math.max(0, delay) * 1000,
      });
    };
    const byReceipt = (receipt: unknown, each: (id: string) => void) => {
      const id = this.receipts.get(String(receipt));
      if (id) each(id);
    };
    const successes = () => {
      const entries = new Map(((request.Entries ?? []) as Record<string, unknown>[]).map((e) => [e.Id, e]));
      return ((response.Successful ?? []) as Record<string, unknown>[]).flatMap((ok) => {
        const entry = entries.get(ok.Id);
        return entry ? [{ ok, entry }] : [];
      });
    };
    if (action === 'SendMessage') {
      sent(response.MessageId, request);
    } else if (action === 'SendMessageBatch') {
      for (const { ok, entry } of successes()) sent(ok.MessageId, entry);
    } else if (action === 'ReceiveMessage') {
      for (const m of (response.Messages ?? []) as Record<string, unknown>[]) {
        const id = String(m.MessageId);
        this.forgetReceipt(id);
        this.receipts.set(String(m.ReceiptHandle), id);
        this.receiptOf.set(id, String(m.ReceiptHandle));
        // Moved here by the queue's redrive policy (a dead-letter queue), with its id.
        const message = this.live.get(id);
        if (message && message.queue !== queue) entries.push({ op: 'send', id, ...message, queue });
      }
    } else if (action === 'DeleteMessage') {
      byReceipt(request.ReceiptHandle, (id) => entries.push({ op: 'delete', id }));
    } else if (action === 'DeleteMessageBatch') {
      for (const { entry } of successes()) byReceipt(entry.ReceiptHandle, (id) => entries.push({ op: 'delete', id }));
    } else if (action === 'ChangeMessageVisibility') {
      byReceipt(request.ReceiptHandle, (id) =>
        entries.push({ op: 'visibility', id, visibleAt: now + Number(request.VisibilityTimeout ?? 0) * 1000 }),
      );
    } else if (action === 'ChangeMessageVisibilityBatch') {
      for (const { entry } of successes()) {
        byReceipt(entry.ReceiptHandle, (id) =>
          entries.push({ op: 'visibility', id, visibleAt: now + Number(entry.VisibilityTimeout ?? 0) * 1000 }),
        );
      }
    } else if (action === 'PurgeQueue' || action === 'DeleteQueue') {
      entries.push({ op: 'purge', queue });
    }
    if (entries.length > 0) this.append(entries);
  }

  private append(entries: Entry[]): void {
    let text = '';
    for (const entry of entries) {
      text += `${JSON.stringify(entry)}\n`;
      apply(this.live, entry);
      if (entry.op === 'delete') this.forgetReceipt(entry.id);
    }
    this.written += writeSync(this.fd, text);
    this.dirty = true;
    if (this.written > this.compactAt && !this.restoring) {
      if (this.written > 4 * this.liveBytes()) this.compact();
      else this.compactAt = this.written + this.compactAfterBytes;
    }
  }

  private forgetReceipt(id: string): void {
    const receipt = this.receiptOf.get(id);
    if (receipt) this.receipts.delete(receipt);
    this.receiptOf.delete(id);
  }

  private liveBytes(): number {
    let bytes = 0;
    for (const m of this.live.values()) bytes += m.body.length + 120;
    return bytes;
  }

  /** Rewrites the journal as one send per message still queued, then swaps it in (sync, rename). */
  private compact(): void {
    const next = `${this.file}.compact`;
    const fd = openSync(next, 'w');
    let text = '';
    for (const [id, message] of this.live) text += `${JSON.stringify({ op: 'send', id, ...message })}\n`;
    this.written = writeSync(fd, text);
    this.compactAt = this.written + this.compactAfterBytes;
    fdatasyncSync(fd);
    renameSync(next, this.file);
    closeSync(this.fd);
    this.fd = fd;
    this.dirty = false;
  }

  private sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    fdatasyncSync(this.fd);
  }

  close(): void {
    clearInterval(this.timer);
    this.sync();
    closeSync(this.fd);
  }
}

/** The journal is rewritten once it has written this much and four times what is still queued (default). */
const COMPACT_AFTER_BYTES = 16 * 1024 * 1024;
