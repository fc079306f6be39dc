import { ApiClient, type RawResponse } from '../../client/apiClient';
import { pollUntil } from '../../client/poll';
import { isFinished } from '../../domain/machine';
import { currentStack } from './stack';

export type ApiResponse<T = any> = RawResponse<T>;

let client: ApiClient | undefined;

/** The shared API client, pointed at the test stack: typed routes and `pages()` for listings. */
export function apiClient(): ApiClient {
  const { apiUrl } = currentStack();
  if (client?.endpoint !== apiUrl) client = new ApiClient({ endpoint: apiUrl });
  return client;
}

/**
 * Calls the local API and returns its answer whatever the status (a JSON body is parsed into
 * `body`), so tests can assert on status codes and raw bodies; a string body is sent as is.
 */
export function api<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
  return apiClient().send<T>(method, path, body);
}

/** Polls `read` until `done` holds for its value, or fails with the last value after `timeoutMs`. */
export const waitFor = pollUntil;

export const getMachine = (id: string) => api('GET', `/machines/${id}`);

/** Waits until the machine has finished (SUCCEEDED or FAILED) and returns it. */
export async function waitUntilFinished(id: string, timeoutMs = 30_000) {
  const response = await waitFor(
    () => getMachine(id),
    (r) => r.status === 200 && isFinished(r.body.status),
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
