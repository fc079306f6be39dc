/**
 * The one HTTP client of the API, shared by the CLI, the benchmark and the tests. Every request
 * goes through `send`, so request signing (e.g. SigV4 for API Gateway IAM auth) is one
 * `transformRequest` hook, applied to every route.
 */
import type { FieldIssue } from '../domain/errors';
import type { HistoryEvent, MachineStatus, MachineSummary, MachineView } from '../domain/machine';

/** A request as it will be sent; `transformRequest` may rewrite it (add headers, sign it). */
export interface ApiRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export type RequestTransform = (request: ApiRequest) => ApiRequest | Promise<ApiRequest>;

export interface ApiClientOptions {
  /** The API's base URL, e.g. http://127.0.0.1:3000 or https://<api-id>.execute-api.<region>.amazonaws.com/prod */
  endpoint: string;
  /** Per request; 30 s unless told. */
  timeoutMs?: number;
  /** Applied to every request just before it is sent. */
  transformRequest?: RequestTransform;
  /** For tests: a fetch of their own. */
  fetch?: typeof globalThis.fetch;
}

/** Any answer of the API, whatever its status; `body` is the parsed JSON when it is JSON. */
export interface RawResponse<T = unknown> {
  status: number;
  body: T | undefined;
  text: string;
  contentType: string | null;
}

/** The API answered with an error status; `message`, `code` and `details` come from its JSON body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | undefined,
    /** The field issues of a validation error; empty for other errors. */
    readonly details: FieldIssue[],
    /** The parsed body (or the text, when it was not JSON). */
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static from(response: RawResponse): ApiError {
    const body = response.body as { error?: unknown; message?: unknown; code?: unknown; details?: unknown } | undefined;
    // `error` is this API's; `message` is API Gateway's own (403 of IAM auth, 401 of JWT, 429 throttled).
    const text = [body?.error, body?.message].find((value) => typeof value === 'string') as string | undefined;
    const message = text ?? `HTTP ${response.status}`;
    const code = typeof body?.code === 'string' ? body.code : undefined;
    const details = Array.isArray(body?.details) ? (body.details as FieldIssue[]) : [];
    return new ApiError(response.status, message, code, details, response.body ?? response.text);
  }
}

/** No answer at all: nothing listening, DNS, TLS, or the request timed out. */
export class ApiUnreachableError extends Error {
  constructor(
    readonly endpoint: string,
    /** The system error code (ECONNREFUSED, ENOTFOUND, ...) or the error's message. */
    readonly reason: string,
  ) {
    super(`cannot reach ${endpoint} (${reason})`);
    this.name = 'ApiUnreachableError';
  }
}

export interface ListQuery {
  /** One status, several, or `ALL`; none lists the alive machines (RUNNING and PARKED). */
  status?: MachineStatus | readonly MachineStatus[] | 'ALL';
  /** Page size, 1 to MAX_PAGE_SIZE; the API's DEFAULT_PAGE_SIZE unless told. */
  limit?: number;
}

export interface MachinePage {
  items: MachineSummary[];
  nextToken?: string;
}

export interface MachineHistory {
  id: string;
  events: HistoryEvent[];
  /** Present when more events follow: pass it back for the next page. */
  nextToken?: string;
}

/** One page of GET /machines/{id}/history. */
export type HistoryPage = MachineHistory;

export interface HistoryQuery {
  /** Events per page (1-1000, default 100). */
  limit?: number;
  nextToken?: string;
}

export interface ResumeRequest {
  object?: unknown;
  state?: string;
  /** Only the wait of this callback token (docs/design.md "Callbacks"). */
  token?: string;
}

/** Where a redriven machine continues (default: its failed state) and with what data (default: its own). */
export type RedriveRequest = ResumeRequest;

/** Deleted now (`removing: false`, HTTP 204), or when its running step ends (`removing: true`, 202). */
export interface DeleteResult {
  id: string;
  removing: boolean;
}

const machinePath = (id: string, suffix = '') => `/machines/${encodeURIComponent(id)}${suffix}`;

export class ApiClient {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly transformRequest: RequestTransform | undefined;
  private readonly fetch: typeof globalThis.fetch;

  constructor(options: ApiClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.transformRequest = options.transformRequest;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /**
   * Sends one request and returns the answer whatever its status: the low-level call the typed
   * methods are built on, and what tests use to assert on status codes and raw bodies. A string
   * body is sent as is (malformed JSON included); anything else as JSON. Throws only
   * ApiUnreachableError, when there is no answer.
   */
  async send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    /** Extra request headers, e.g. `accept`. */
    headers: Record<string, string> = {},
  ): Promise<RawResponse<T>> {
    let request: ApiRequest = {
      method,
      url: new URL(`${this.endpoint}${path}`),
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    };
    if (this.transformRequest) request = await this.transformRequest(request);
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ApiUnreachableError(this.endpoint, reason);
    }
    const contentType = response.headers.get('content-type');
    return { status: response.status, body: parseJson(contentType, text) as T | undefined, text, contentType };
  }

  /** Sends one request; an error status throws ApiError, a success returns the raw answer. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<RawResponse<T>> {
    const response = await this.send<T>(method, path, body, headers);
    if (response.status >= 400) throw ApiError.from(response);
    return response;
  }

  /** Sends one request that must answer with JSON, and returns it. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, path, body);
    if (response.body === undefined) {
      throw new ApiError(
        response.status,
        `expected JSON, got ${response.contentType ?? 'no content type'}`,
        undefined,
        [],
        response.text,
      );
    }
    return response.body;
  }

  /** POST /machines: the new machine (201), or the existing one added with the same name and definition (200). */
  addMachine(definition: unknown): Promise<MachineView> {
    return this.json('POST', '/machines', definition);
  }

  /** GET /machines: one page, newest first. */
  listPage(query: ListQuery & { nextToken?: string } = {}): Promise<MachinePage> {
    const params = new URLSearchParams();
    if (query.status !== undefined) {
      params.set('status', typeof query.status === 'string' ? query.status : query.status.join(','));
    }
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.nextToken !== undefined) params.set('nextToken', query.nextToken);
    const search = params.size > 0 ? `?${params}` : '';
    return this.json('GET', `/machines${search}`);
  }

  /** Every page of GET /machines for `query`, following nextToken to the end. */
  pages(query: ListQuery = {}): AsyncGenerator<MachinePage, void, undefined> {
    return follow((nextToken) => this.listPage({ ...query, ...(nextToken === undefined ? {} : { nextToken }) }));
  }

  /** Every machine GET /machines lists for `query`, across all pages. */
  async listAll(query: ListQuery = {}): Promise<MachineSummary[]> {
    const items: MachineSummary[] = [];
    for await (const page of this.pages(query)) items.push(...page.items);
    return items;
  }

  /** GET /machines/{id} */
  getMachine(id: string): Promise<MachineView> {
    return this.json('GET', machinePath(id));
  }

  /** GET /machines/{id}/history: one page of events, oldest first. */
  historyPage(id: string, page: HistoryQuery = {}): Promise<HistoryPage> {
    const params = new URLSearchParams();
    if (page.limit !== undefined) params.set('limit', String(page.limit));
    if (page.nextToken !== undefined) params.set('nextToken', page.nextToken);
    const search = params.size > 0 ? `?${params}` : '';
    return this.json('GET', machinePath(id, `/history${search}`));
  }

  /** Every event of a machine's history, oldest first, across all pages. */
  async history(id: string): Promise<MachineHistory> {
    const events: HistoryEvent[] = [];
    const pages = follow((nextToken) => this.historyPage(id, nextToken === undefined ? {} : { nextToken }));
    for await (const page of pages) events.push(...page.events);
    return { id, events };
  }

  /** GET /machines/{id}/diagram: Mermaid stateDiagram-v2 text. */
  async diagram(id: string): Promise<string> {
    return (await this.request('GET', machinePath(id, '/diagram'))).text;
  }

  /**
   * GET /machines/{id}/diagram as SVG (`?format=svg`, `Accept: image/svg+xml`), the current state
   * highlighted. An API that answers anything but SVG (one older than the SVG diagrams) throws
   * ApiError with code `SVG_UNSUPPORTED`.
   */
  async diagramSvg(id: string): Promise<string> {
    const response = await this.request('GET', machinePath(id, '/diagram?format=svg'), undefined, {
      accept: 'image/svg+xml',
    });
    if (!response.contentType?.startsWith('image/svg+xml')) {
      throw new ApiError(
        response.status,
        `expected an SVG diagram, got ${response.contentType ?? 'no content type'}`,
        'SVG_UNSUPPORTED',
        [],
        response.text,
      );
    }
    return response.text;
  }

  /** POST /machines/{id}/resume: wakes a PARKED machine (202), optionally with new data or in another state. */
  resume(id: string, request: ResumeRequest = {}): Promise<MachineView> {
    return this.json('POST', machinePath(id, '/resume'), request);
  }

  /** POST /callbacks: resumes the wait the token belongs to (202). */
  callback(request: { token: string; object?: unknown; state?: string }): Promise<MachineView> {
    return this.json('POST', '/callbacks', request);
  }

  /** POST /callbacks/fail: fails the wait the token belongs to with `error` (202). */
  callbackFail(request: { token: string; error: string }): Promise<MachineView> {
    return this.json('POST', '/callbacks/fail', request);
  }

  /** POST /callbacks/heartbeat: restarts the heartbeat clock of the wait the token belongs to (202). */
  heartbeat(request: { token: string }): Promise<MachineView> {
    return this.json('POST', '/callbacks/heartbeat', request);
  }

  /** POST /machines/{id}/redrive: puts a FAILED machine back to RUNNING (202), optionally with new data or in another state. */
  redrive(id: string, request: RedriveRequest = {}): Promise<MachineView> {
    return this.json('POST', machinePath(id, '/redrive'), request);
  }

  /** POST /machines/{id}/wake: runs the next step of a machine waiting on a delay now (202). */
  wake(id: string): Promise<MachineView> {
    return this.json('POST', machinePath(id, '/wake'));
  }

  /** DELETE /machines/{id} */
  async deleteMachine(id: string): Promise<DeleteResult> {
    const response = await this.request<{ removing?: boolean }>('DELETE', machinePath(id));
    return { id, removing: response.body?.removing === true };
  }
}

function parseJson(contentType: string | null, text: string): unknown {
  if (!text || !contentType?.includes('application/json')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every page from `fetchPage`, following nextToken to the end (and refusing to loop on one token). */
async function* follow<T extends { nextToken?: string }>(
  fetchPage: (nextToken: string | undefined) => Promise<T>,
): AsyncGenerator<T, void, undefined> {
  let nextToken: string | undefined;
  do {
    const page = await fetchPage(nextToken);
    yield page;
    if (page.nextToken !== undefined && page.nextToken === nextToken) {
      throw new Error(`the API answered the same nextToken twice (${nextToken}); stopping`);
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
}
