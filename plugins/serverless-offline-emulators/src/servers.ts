import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer } from 'node:net';

export interface Running {
  server: Server;
  url: string;
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/**
 * Where the local stack's ports are drawn: below the ephemeral range that outgoing connections
 * take their local ports from (32768-60999 on Linux, 49152-65535 on macOS). A port picked there
 * could be taken by a client's connection between our check and the listen that uses it, as
 * happened with test lanes side by side, each making thousands of requests.
 */
const PICKED_PORTS = { from: 20000, to: 32000 };

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port nobody listens on right now, drawn at random below the ephemeral range, not one of `taken`. */
export async function freePort(host = '127.0.0.1', taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PICKED_PORTS.from + Math.floor(Math.random() * (PICKED_PORTS.to - PICKED_PORTS.from));
    if (!taken.has(port) && (await canListen(port, host))) return port;
  }
  throw new Error(`no free port between ${PICKED_PORTS.from} and ${PICKED_PORTS.to}`);
}

export interface ForwardOptions {
  agent: Agent;
  target: { host: string; port: number };
  /** The path (and query) to send to; default the request's own. */
  path?: string;
  /** The answer's headers as sent on; default as they came. */
  headers?: (headers: IncomingHttpHeaders) => OutgoingHttpHeaders;
  /** Called once the answer has been streamed back in full. */
  onAnswer?: (answer: IncomingMessage) => void;
  /** Called when the target could not be reached (after the one retry); the caller answers `res`. */
  onFailure: (error: Error) => void;
  /**
   * An answer whose body is over `bytes` is not passed on: `res` is answered by `instead`, told
   * the length (Lambda's limit on a synchronous response).
   */
  limit?: { bytes: number; instead: (res: ServerResponse, bytes: number) => void };
}

/**
 * The keep-alive agent a front forwards to serverless-offline with. serverless-offline's servers
 * close a connection after Node's default 5 s idle; a socket the agent reused just as that
 * happened failed the request ("socket hang up", after a burst such as 200 machines' first steps
 * left many idle). The agent closes its own idle sockets first, after 4 s, and never cuts a
 * request that is still running (a socket timeout only drops free sockets).
 */
export function forwardingAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256, timeout: 4_000 });
}

/**
 * Sends a request, already read in full as `body`, on to the target (same method and headers) and
 * streams the answer back to `res`. A keep-alive socket the target closed just as it was reused
 * fails with ECONNRESET before anything was answered: such a request never reached the target, so
 * it is sent once more.
 */
export function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, options: ForwardOptions): void {
  const send = (retry: boolean) => {
    const onward = request(
      {
        host: options.target.host,
        port: options.target.port,
        method: req.method,
        path: options.path ?? req.url,
        headers: req.headers,
        agent: options.agent,
      },
      (answer) => {
        const headers = options.headers ? options.headers(answer.headers) : answer.headers;
        if (options.limit) return answerWithin(options.limit, answer, headers, res, options.onAnswer);
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
        answer.on('end', () => options.onAnswer?.(answer));
      },
    );
    onward.on('error', (error) => {
      if (retry && onward.reusedSocket && !res.headersSent) return send(false);
      options.onFailure(error);
    });
    onward.end(body);
  };
  send(true);
}

/**
 * Passes `answer` on to `res` if its body is at most `limit.bytes` (read in full first: its length
 * may not be declared), else answers `limit.instead` with the length it would have had.
 */
function answerWithin(
  limit: NonNullable<ForwardOptions['limit']>,
  answer: IncomingMessage,
  answerHeaders: OutgoingHttpHeaders,
  res: ServerResponse,
  onAnswer: ForwardOptions['onAnswer'],
): void {
  void collect(answer, limit.bytes).then(
    ({ bytes, body }) => {
      if (!body) limit.instead(res, bytes);
      else {
        const { 'transfer-encoding': _chunked, ...headers } = answerHeaders;
        res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': String(bytes) });
        res.end(body);
      }
      onAnswer?.(answer);
    },
    () => res.destroy(),
  );
}

/** The whole body of a request; past `maxBytes`, undefined (the rest is read and dropped). */
export function readBody(req: IncomingMessage): Promise<Buffer>;
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined>;
export function readBody(req: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
  return collect(req, maxBytes).then(({ body }) => body);
}

/** A stream's length and, while it is at most `maxBytes`, its bytes (past that they are read and dropped). */
function collect(stream: IncomingMessage, maxBytes: number): Promise<{ bytes: number; body?: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
      else chunks.length = 0;
    });
    stream.on('end', () => resolve(bytes <= maxBytes ? { bytes, body: Buffer.concat(chunks) } : { bytes }));
    stream.on('error', reject);
  });
}
