import { createHash, randomBytes } from 'node:crypto';

/**
 * Lambda's recursive loop detection, emulated. On AWS a function invoked for an event carries the
 * event's X-Ray trace header in `_X_AMZN_TRACE_ID`; the SDK sends it with every request
 * (`X-Amzn-Trace-Id`), SQS keeps it as the message's `AWSTraceHeader`, and the header's `Lineage`
 * counts how often each function has been invoked along the chain. Past 16 invocations of the same
 * function, Lambda stops the next one, unless the function's RecursiveLoop is `Allow`.
 *
 * Here the lineage is `Lineage=<8 hex of the function ARN's hash>:<invocations>` joined by `|`, one
 * counter per function of the chain, in a trace header of the X-Ray form.
 */

/** Invocations of one function a chain may have; the next one is stopped. */
export const MAX_RECURSIVE_INVOCATIONS = 16;

export const functionHash = (functionArn: string) => createHash('sha256').update(functionArn).digest('hex').slice(0, 8);

/** Each function's invocation count in a trace header's Lineage (none: an empty map). */
export function lineageOf(traceHeader: string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  const lineage = /(?:^|;)\s*Lineage=([^;]*)/.exec(traceHeader ?? '')?.[1] ?? '';
  for (const part of lineage.split('|')) {
    const [hash, count] = part.split(':');
    const n = Number(count);
    if (hash && Number.isInteger(n) && n >= 0) counts.set(hash, n);
  }
  return counts;
}

/** How often `functionArn` has been invoked along the chain that led to a message with this trace header. */
export const invocationsOf = (traceHeader: string | undefined, functionArn: string) =>
  lineageOf(traceHeader).get(functionHash(functionArn)) ?? 0;

/** The trace header of one more invocation of `functionArn` (a new Root when there was none). */
export function nextInvocation(traceHeader: string | undefined, functionArn: string): string {
  const counts = lineageOf(traceHeader);
  const hash = functionHash(functionArn);
  counts.set(hash, (counts.get(hash) ?? 0) + 1);
  const root =
    /(?:^|;)\s*Root=([^;]*)/.exec(traceHeader ?? '')?.[1] ??
    `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const lineage = [...counts].map(([h, n]) => `${h}:${n}`).join('|');
  return `Root=${root};Parent=${randomBytes(8).toString('hex')};Sampled=0;Lineage=${lineage}`;
}

/**
 * The trace header each queued message was sent with, by message id: what SQS keeps as the
 * AWSTraceHeader system attribute (local-aws-sqs ignores the request header). Filled by the SQS
 * tap, read and forgotten by the event source.
 */
export class TraceJournal {
  private readonly byMessageId = new Map<string, string>();

  /** A send the SQS emulator answered: `headers` and `request`/`response` bodies as JSON. */
  observe(
    action: string,
    header: string | undefined,
    request: Record<string, unknown>,
    response: Record<string, unknown>,
  ): void {
    const explicit = (attributes: unknown) =>
      ((attributes as Record<string, { StringValue?: string }> | undefined)?.AWSTraceHeader?.StringValue ?? header) ||
      undefined;
    if (action === 'SendMessage') {
      const trace = explicit(request.MessageSystemAttributes);
      if (trace && typeof response.MessageId === 'string') this.byMessageId.set(response.MessageId, trace);
    } else if (action === 'SendMessageBatch') {
      const entries = new Map(
        ((request.Entries ?? []) as { Id?: string; MessageSystemAttributes?: unknown }[]).map((e) => [e.Id, e]),
      );
      for (const sent of (response.Successful ?? []) as { Id?: string; MessageId?: string }[]) {
        const trace = explicit(entries.get(sent.Id)?.MessageSystemAttributes);
        if (trace && sent.MessageId) this.byMessageId.set(sent.MessageId, trace);
      }
    }
  }

  get(messageId: string): string | undefined {
    return this.byMessageId.get(messageId);
  }

  forget(messageId: string): void {
    this.byMessageId.delete(messageId);
  }
}
