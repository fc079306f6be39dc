/** A small client of the HTTP API for the CLI; every failure becomes a one-line CliError. */

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ApiClient {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  text(path: string): Promise<string>;
}

interface ErrorBody {
  error?: string;
  details?: { path: string; message: string }[] | Record<string, unknown>;
}

export function apiClient(endpoint: string): ApiClient {
  const base = endpoint.replace(/\/+$/, '');
  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new CliError(`cannot reach ${base} (${cause}); is the service running? (npm start, or --endpoint URL)`, 2);
    }
  }
  async function check(response: Response): Promise<Response> {
    if (response.ok) return response;
    const text = await response.text();
    let body: ErrorBody = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // not JSON: report the status alone
    }
    const details = Array.isArray(body.details)
      ? `: ${body.details.map((d) => `${d.path}: ${d.message}`).join('; ')}`
      : '';
    throw new CliError(`${body.error ?? `HTTP ${response.status}`}${details} (HTTP ${response.status})`);
  }
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await check(await call(method, path, body));
      const text = await response.text();
      return (text ? JSON.parse(text) : {}) as T;
    },
    async text(path: string): Promise<string> {
      return (await check(await call('GET', path))).text();
    },
  };
}
