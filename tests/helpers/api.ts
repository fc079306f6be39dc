import { currentStack } from './stack';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  contentType: string | null;
}

/** Calls the local API; a JSON body is parsed into `body`. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
  const response = await fetch(`${currentStack().apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  const parsed = contentType?.includes('application/json') && text ? JSON.parse(text) : undefined;
  return { status: response.status, body: parsed as T, text, contentType };
}

/** Polls `read` until `done` holds for its value, or fails with the last value after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    last = await read();
  }
  return last;
}

export const getMachine = (id: string) => api('GET', `/machines/${id}`);

/** Waits until the machine has finished (SUCCEEDED or FAILED) and returns it. */
export async function waitUntilFinished(id: string, timeoutMs = 30_000) {
  const response = await waitFor(
    () => getMachine(id),
    (r) => r.status === 200 && ['SUCCEEDED', 'FAILED'].includes(r.body.status),
    { timeoutMs, what: `machine ${id} to finish` },
  );
  return response.body;
}

/** The original project's five-state workflow, with short function names. */
export function exampleWorkflow(object: Record<string, unknown> = {}, extra: { name?: string } = {}) {
  return {
    object,
    config: { START: 'prepare', 'TASK-1': 'task-1', 'TASK-2a': 'task-2a', 'TASK-2b': 'task-2b', FINALIZE: 'finalize' },
    state: 'START',
    ...extra,
  };
}
