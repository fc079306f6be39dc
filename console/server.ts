/**
 * The web console's server: runs on the user's machine, listens on 127.0.0.1 only, serves the
 * console's page and calls the state machine API on the browser's behalf through the shared
 * client (client/apiClient.ts). The browser talks only to this server; whatever the API needs
 * (AWS credentials, SigV4 signing through `transformRequest`) stays in this process.
 *
 *   const { url, stop } = await startConsole({ endpoint: 'http://127.0.0.1:3000' });
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError, ApiUnreachableError, type RawResponse, type RequestTransform } from '../client/apiClient';
import { MAX_PAGE_SIZE } from '../domain/limits';
import type { MachineSummary } from '../domain/machine';
import { type MachineStatus, STATUSES } from '../domain/status';
import type { MachinePageAnswer, OverviewAnswer } from './answers';
import { type Asset, buildAssets } from './assets';
import { checkRequest, newToken } from './security';

export interface ConsoleOptions {
  /** The API's base URL, e.g. http://127.0.0.1:3000 or https://<api-id>.execute-api.<region>.amazonaws.com */
  endpoint: string;
  /** Port on 127.0.0.1; 0 (the default) lets the system pick a free one. */
  port?: number;
  /** Open the console in the default browser (xdg-open, open or start). Default false. */
  openBrowser?: boolean;
  /**
   * Applied to every API request just before it is sent: the place for request signing
   * (e.g. SigV4 with the user's AWS credentials once the API requires IAM auth).
   */
  transformRequest?: RequestTransform;
  /** Most machines counted and listed per status (default 1000); beyond it the counts show "1000+". */
  listCap?: number;
}

export interface RunningConsole {
  /** The URL to open, with the per-start token; print it, it is the key to the console. */
  url: string;
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  /** The API it drives. */
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts the console server; see ConsoleOptions. */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const api = new ApiClient({
    endpoint: options.endpoint,
    timeoutMs: 15_000,
    ...(options.transformRequest ? { transformRequest: options.transformRequest } : {}),
  });
  const assets = await buildAssets();
  const token = newToken();
  const overview = new Overview(api, options.listCap ?? 1000);
  let port = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('fsm console: unexpected error', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error of the console server' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = checkRequest(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
      { token, port },
    );
    if (!verdict.allow) {
      req.resume();
      if (verdict.status === 303) {
        res.writeHead(303, { location: verdict.location, 'set-cookie': verdict.setCookie, ...SECURITY_HEADERS });
        res.end();
      } else {
        res.writeHead(verdict.status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
        res.end(`${verdict.status}: ${verdict.reason}\n`);
      }
      return;
    }
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    if (path.startsWith('/api/')) {
      await route(req, res, url);
      return;
    }
    const asset = path === '/' || path.startsWith('/machines/') ? assets.get('/index.html') : assets.get(path);
    if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) {
      req.resume();
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    sendAsset(req, res, asset);
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').slice(2).map(decodeURIComponent); // after /api/
    let body: string | typeof TOO_LARGE | undefined;
    if (method === 'POST') body = await readBody(req);
    else req.resume();
    if (body === TOO_LARGE) {
      sendJson(res, 413, { error: 'request too large for the console', code: 'PAYLOAD_TOO_LARGE' });
      return;
    }
    try {
      if (method === 'GET' && parts.length === 1 && parts[0] === 'info') {
        sendJson(res, 200, { endpoint: api.endpoint });
        return;
      }
      // GET /api/overview?status=&q=&page=&pageSize=
      if (method === 'GET' && parts.length === 1 && parts[0] === 'overview') {
        sendJson(res, 200, await overview.query(url.searchParams));
        return;
      }
      if (parts[0] !== 'machines') {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      const [, id, action] = parts;
      // POST /api/machines: the definition as typed, passed through unchanged (bad JSON included).
      if (method === 'POST' && id === undefined) {
        pass(res, await api.send('POST', '/machines', body ?? ''));
        overview.invalidate();
        return;
      }
      if (!id || parts.length > 3) {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      const machinePath = `/machines/${encodeURIComponent(id)}`;
      if (method === 'GET' && action === undefined) {
        sendJson(res, 200, await machinePage(api, id, url.searchParams));
      } else if (method === 'GET' && action === 'diagram.svg') {
        const svg = await api.diagramSvg(id);
        res.writeHead(200, {
          'content-type': 'image/svg+xml; charset=utf-8',
          'cache-control': 'no-store',
          // Opened on its own, the SVG may style itself and do nothing else.
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
          'x-content-type-options': 'nosniff',
        });
        res.end(svg);
      } else if (method === 'GET' && action === 'diagram.txt') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
        res.end(await api.diagram(id));
      } else if (method === 'DELETE' && action === undefined) {
        pass(res, await api.send('DELETE', machinePath));
        overview.invalidate();
      } else if (method === 'POST' && action === 'resume') {
        pass(res, await api.send('POST', `${machinePath}/resume`, body || '{}'));
        overview.invalidate();
      } else if (method === 'POST' && action === 'redrive') {
        const answer = await api.send<{ code?: string }>('POST', `${machinePath}/redrive`, body || '{}');
        overview.invalidate();
        if (answer.status === 404 && answer.body?.code !== 'MACHINE_NOT_FOUND') {
          // The API answered 404 for the route, not the machine: a deployment without redrive.
          sendJson(res, 404, { error: 'this API has no redrive route', code: 'ROUTE_NOT_FOUND', details: [] });
        } else {
          pass(res, answer);
        }
      } else {
        sendJson(res, 404, { error: 'not found' });
      }
    } catch (error) {
      if (error instanceof ApiUnreachableError) {
        sendJson(res, 502, { error: error.message, code: 'API_UNREACHABLE', details: [] });
      } else if (error instanceof ApiError) {
        sendJson(res, error.status, { error: error.message, code: error.code, details: error.details });
      } else {
        throw error;
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/?token=${token}`;
  if (options.openBrowser) openInBrowser(url);

  return {
    url,
    origin,
    port,
    endpoint: api.endpoint,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(JSON.stringify(body));
}

/** Answers with the API's own status and body (JSON, or nothing for a 204). */
function pass(res: ServerResponse, answer: RawResponse): void {
  if (answer.status === 204 || answer.text === '') {
    res.writeHead(answer.status, { 'cache-control': 'no-store', ...SECURITY_HEADERS });
    res.end();
    return;
  }
  sendJson(res, answer.status, answer.body ?? { error: answer.text.slice(0, 1000) });
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const headers = {
    'content-type': asset.contentType,
    etag: asset.etag,
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
    ...SECURITY_HEADERS,
  };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? asset.gzip : asset.body;
  res.writeHead(200, { ...headers, ...(gzip ? { 'content-encoding': 'gzip' } : {}), 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const TOO_LARGE = Symbol('too large');
/** The API refuses definitions over 256 KiB (413); anything far beyond is not sent on. */
const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string | typeof TOO_LARGE> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) return TOO_LARGE;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const HISTORY_PAGE_SIZE = 25;

/** One machine with one page of its history (paged here: the API answers every event today). */
async function machinePage(api: ApiClient, id: string, query: URLSearchParams): Promise<MachinePageAnswer> {
  const [machine, history] = await Promise.all([api.getMachine(id), api.history(id)]);
  const pageSize = clampInt(query.get('pageSize'), 1, 200, HISTORY_PAGE_SIZE);
  const total = history.events.length;
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  // No page asked for: the last one, where a running machine's new events appear.
  const page = clampInt(query.get('historyPage'), 1, pageCount, pageCount);
  return {
    machine,
    history: {
      total,
      page,
      pageCount,
      pageSize,
      events: history.events.slice((page - 1) * pageSize, page * pageSize),
    },
    now: new Date().toISOString(),
  };
}

function clampInt(text: string | null, min: number, max: number, fallback: number): number {
  const value = Number(text);
  if (text === null || text === '' || !Number.isInteger(value)) return fallback;
  return Math.min(max, Math.max(min, value));
}

/**
 * The machines page's data: every status's machines (up to `cap` each, newest first), counted,
 * filtered by status and by a search over id and name, and paged. The API has no counts or
 * search, so this reads the listings; one read serves every browser poll for a second.
 */
class Overview {
  private cached:
    | { at: number; lists: Promise<Record<MachineStatus, { items: MachineSummary[]; capped: boolean }>> }
    | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly cap: number,
  ) {}

  invalidate(): void {
    this.cached = undefined;
  }

  private lists() {
    if (!this.cached || Date.now() - this.cached.at > 900) {
      const lists = this.readAll();
      this.cached = { at: Date.now(), lists };
      // A failed read is not kept.
      lists.catch(() => {
        if (this.cached?.lists === lists) this.cached = undefined;
      });
    }
    return this.cached.lists;
  }

  private async readAll() {
    const entries = await Promise.all(
      STATUSES.map(async (status) => {
        const items: MachineSummary[] = [];
        let capped = false;
        for await (const page of this.api.pages({ status, limit: MAX_PAGE_SIZE })) {
          items.push(...page.items);
          if (items.length >= this.cap) {
            capped = page.nextToken !== undefined || items.length > this.cap;
            items.length = Math.min(items.length, this.cap);
            break;
          }
        }
        return [status, { items, capped }] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<MachineStatus, { items: MachineSummary[]; capped: boolean }>;
  }

  async query(params: URLSearchParams): Promise<OverviewAnswer> {
    const lists = await this.lists();
    const status = params.get('status');
    const statuses = STATUSES.filter((s) => !status || status === 'ALL' || s === status);
    const q = (params.get('q') ?? '').trim().toLowerCase();
    let items = statuses
      .flatMap((s) => lists[s].items)
      .filter((m) => !q || m.id.toLowerCase().includes(q) || (m.name ?? '').toLowerCase().includes(q))
      .sort((a, b) => (a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? 1 : -1));
    // An exact id the listings do not hold (beyond the cap): ask for it.
    if (q && items.length === 0 && /^[A-Za-z0-9._-]{1,128}$/.test(params.get('q')?.trim() ?? '')) {
      const found = await this.api.getMachine(params.get('q')?.trim() ?? '').catch(() => undefined);
      if (found && statuses.includes(found.status)) items = [found];
    }
    const pageSize = clampInt(params.get('pageSize'), 1, 100, 20);
    const pageCount = Math.max(1, Math.ceil(items.length / pageSize));
    const page = clampInt(params.get('page'), 1, pageCount, 1);
    return {
      counts: Object.fromEntries(STATUSES.map((s) => [s, lists[s].items.length])) as Record<MachineStatus, number>,
      capped: Object.fromEntries(STATUSES.map((s) => [s, lists[s].capped])) as Record<MachineStatus, boolean>,
      total: items.length,
      page,
      pageCount,
      pageSize,
      items: items.slice((page - 1) * pageSize, page * pageSize).map((m) => ({
        id: m.id,
        ...(m.name ? { name: m.name } : {}),
        status: m.status,
        state: m.state,
        version: m.version,
        createdAt: m.createdAt,
        updatedAt: m.updatedAt,
      })),
      now: new Date().toISOString(),
    };
  }
}

/** Opens `url` in the default browser; failing to is not an error (the URL is printed). */
function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No browser opener here: the URL is printed anyway.
  }
}
