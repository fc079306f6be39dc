import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Reply {
  status: number;
  /** Sent as JSON unless `text` is given. */
  body?: unknown;
  text?: string;
  contentType?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** A tiny HTTP server on a free port of 127.0.0.1 that answers with `reply` and records every request. */
export class FakeServer {
  readonly requests: SeenRequest[] = [];
  reply: (request: SeenRequest) => Reply = () => ({ status: 200, body: {} });
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const seen: SeenRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(seen);
        const reply = this.reply(seen);
        const send = () => {
          if (reply.text !== undefined) {
            res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain; charset=utf-8' });
            res.end(reply.text);
          } else if (reply.body === undefined) {
            res.writeHead(reply.status);
            res.end();
          } else {
            res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' });
            res.end(JSON.stringify(reply.body));
          }
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
