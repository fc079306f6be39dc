import type { HistoryEvent } from '../domain/machine';
import { mapLimit, quantile } from './stats';

export interface WorkloadResult {
  machines: number;
  steps: number;
  transitions: number;
  wallSeconds: number;
  transitionsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  addToFirstStepMs: number;
}

async function call<T>(apiUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Ids of ours that are still alive, from the status index (cheap to poll, unlike a get per machine). */
async function stillAlive(apiUrl: string, ids: Set<string>): Promise<number> {
  let alive = 0;
  let token: string | undefined;
  do {
    const page = await call<{ items: { id: string }[]; nextToken?: string }>(
      apiUrl,
      'GET',
      `/machines?limit=100${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
    );
    alive += page.items.filter((item) => ids.has(item.id)).length;
    token = page.nextToken;
  } while (token);
  return alive;
}

/**
 * M machines, all added at once, each taking K no-op steps with no delay. Latency is the time
 * from one step's commit to the next's, read from the machines' histories.
 */
export async function runWorkload(
  apiUrl: string,
  { machines, steps, timeoutMs }: { machines: number; steps: number; timeoutMs: number },
): Promise<WorkloadResult> {
  const definition = { state: 'STEP', config: { STEP: 'noop' }, object: { steps } };
  const ids = await mapLimit(Array.from({ length: machines }), 32, async () => {
    return (await call<{ id: string }>(apiUrl, 'POST', '/machines', definition)).id;
  });
  const pending = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  while ((await stillAlive(apiUrl, pending)) > 0) {
    if (Date.now() > deadline) throw new Error(`workload did not finish within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const histories = await mapLimit(ids, 16, async (id) => {
    const { events } = await call<{ events: HistoryEvent[] }>(apiUrl, 'GET', `/machines/${id}/history`);
    return events.map((event) => Date.parse(event.at));
  });
  const latencies: number[] = [];
  const firstSteps: number[] = [];
  let transitions = 0;
  for (const times of histories) {
    transitions += times.length - 1;
    if (times.length > 1) firstSteps.push((times[1] as number) - (times[0] as number));
    for (let i = 2; i < times.length; i++) latencies.push((times[i] as number) - (times[i - 1] as number));
  }
  const all = histories.flat();
  const wallSeconds = (Math.max(...all) - Math.min(...all)) / 1000;
  return {
    machines,
    steps,
    transitions,
    wallSeconds,
    transitionsPerSecond: transitions / wallSeconds,
    latencyMs: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), p99: quantile(latencies, 0.99) },
    addToFirstStepMs: quantile(firstSteps, 0.5),
  };
}
