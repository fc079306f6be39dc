import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** One request an emulator answered, as a tap sees it. */
export interface Exchange {
  headers: IncomingMessage['headers'];
  /** The request body, after `rewrite`. */
  request: Buffer;
  status: number;
  response: Buffer;
  startedAt: number;
  durationMs: number;
}

export interface TapOptions {
  /** May return a replacement for the request body (e.g. to ask for ConsumedCapacity). */
  rewrite?: (body: Buffer, headers: IncomingMessage['headers']) => Buffer | undefined;
  onExchange?: (exchange: Exchange) => void;
  /**
   * Like onExchange, but before the response leaves: what it writes synchronously is on record
   * before the caller hears of the request (a journal). If it throws, the connection is dropped
   * unanswered.
   */
  beforeAnswer?: (exchange: Exchange) => void;
  /** May answer the request itself (e.g. an error the emulator would not give), instead of the listener. */
  answer?: (body: Buffer, headers: IncomingMessage['headers']) => { status: number; body: string } | undefined;
}

/**
 * Wraps an emulator's request listener, in process (no extra network hop): buffers the request,
 * lets `rewrite` change it, hands the listener a replayed request, and reports the request and the
 * response once it is sent.
 */
export function tap(listener: RequestListener, options: TapOptions): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const startedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      let body: Buffer = Buffer.concat(chunks);
      try {
        body = options.rewrite?.(body, req.headers) ?? body;
      } catch {
        // not a request we understand: pass it on as it is
      }
      const replay = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
        headers: { ...req.headers, 'content-length': String(body.length) },
        rawHeaders: req.rawHeaders,
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
        socket: req.socket,
        connection: req.socket,
      }) as unknown as IncomingMessage;

      const sent: Buffer[] = [];
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      const keep = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
        sent.push(
          Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
        );
      };
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        keep(chunk, rest[0]);
        return write(chunk, ...rest);
      }) as ServerResponse['write'];
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        keep(chunk, rest[0]);
        const exchange = () => ({
          headers: req.headers,
          request: body,
          status: res.statusCode,
          response: Buffer.concat(sent),
          startedAt,
          durationMs: Date.now() - startedAt,
        });
        if (options.beforeAnswer) {
          try {
            options.beforeAnswer(exchange());
          } catch {
            res.destroy();
            return res;
          }
        }
        const result = end(chunk, ...rest);
        try {
          options.onExchange?.(exchange());
        } catch {
          // a recorder must never break the emulator
        }
        return result;
      }) as ServerResponse['end'];
      let early: { status: number; body: string } | undefined;
      try {
        early = options.answer?.(body, req.headers);
      } catch {
        // not a request we understand: the emulator answers it
      }
      if (early) {
        res.writeHead(early.status, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(Buffer.byteLength(early.body)),
          'x-amzn-requestid': randomUUID(),
        });
        res.end(early.body);
        return;
      }
      listener(replay, res);
    });
  };
}

/** The AWS JSON protocol's action: `x-amz-target: DynamoDB_20120810.PutItem` -> PutItem. */
export function targetAction(headers: IncomingMessage['headers']): string | undefined {
  const target = headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.lastIndexOf('.') + 1) : undefined;
}

/**
 * The SDK's `app/<id>` User-Agent token (AWS_SDK_UA_APP_ID / userAgentAppId), if any, without
 * the `/PT/<feature>/<version>/PTEnv/<env>` suffix Powertools for AWS Lambda appends to the
 * variable when it loads (the SDK escapes its slashes to dashes).
 */
export function userAgentAppId(headers: IncomingMessage['headers']): string | undefined {
  for (const header of [headers['x-amz-user-agent'], headers['user-agent']]) {
    const match = typeof header === 'string' ? /(?:^| )app\/([^ ]+)/.exec(header) : null;
    if (match?.[1]) return match[1].replace(/[-/]PT[-/].*$/, '');
  }
  return undefined;
}

export function parseJson(buffer: Buffer): Record<string, unknown> {
  if (buffer.length === 0) return {};
  try {
    const value = JSON.parse(buffer.toString('utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
