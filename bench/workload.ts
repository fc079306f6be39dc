import { ApiClient } from '../client/apiClient';
import { pollUntil } from '../client/poll';
import { isFinished } from '../domain/status';
import { LOCAL_STAGE, SERVICE } from '../tests/helpers/localStack';
import { realisticDefinition, realisticObject } from './realistic';
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

/**
 * How many of `pending` are still running, removing those found finished. It reads one machine at a
 * time and stops at the first still running: about one GET per poll while the workload runs. (A
 * listing reads every shard of the status index, 64 Queries per status and page: polled every
 * 200 ms, that loaded the stack being measured more than the machines' own steps did, and the limit
 * loop it is compared with has no such poll.)
 */
async function stillRunning(api: ApiClient, pending: Set<string>): Promise<number> {
  for (const id of pending) {
    if (!isFinished((await api.getMachine(id)).status)) break;
    pending.delete(id);
  }
  return pending.size;
}

export interface WorkloadOptions {
  machines: number;
  steps: number;
  timeoutMs: number;
  /** Each machine's `object` is about this many bytes of order-like JSON (the no-op step keeps it). */
  objectBytes?: number;
  /** Its `config`, `catch` and `timeouts` are about this many bytes of JSON, as real ones are written. */
  configBytes?: number;
  /** Seconds each no-op step waits before the next (none: the next is due at once). */
  delaySeconds?: number;
}

/**
 * `{ steps, delay?, orders? }`, about `bytes` of JSON: what a machine of that size carries from step
 * to step, order-like workflow data (bench/realistic.ts), not padding that compresses to nothing.
 */
export function sizedObject(steps: number, bytes = 0, delay?: number) {
  return realisticObject(delay ? { steps, delay } : { steps }, bytes);
}

/** The stage's function `key` by ARN, as a definition names it (the local stage's allow-list). */
const localArn = (key: string) => `arn:aws:lambda:us-east-1:123456789012:function:${SERVICE}-${LOCAL_STAGE}-${key}`;

/** `{ state, config }` running the no-op `STEP`; with `configBytes`, a realistic definition of that size. */
export function sizedDefinition(configBytes = 0) {
  return configBytes > 0
    ? { state: 'STEP', ...realisticDefinition('STEP', 'noop', configBytes, localArn) }
    : { state: 'STEP', config: { STEP: 'noop' } };
}

/**
 * M machines, all added at once, each taking K no-op steps with no delay. Latency is the time
 * from one step's commit to the next's, read from the machines' histories.
 */
export async function runWorkload(apiUrl: string, options: WorkloadOptions): Promise<WorkloadResult> {
  const { machines, steps, timeoutMs } = options;
  const definition = {
    ...sizedDefinition(options.configBytes),
    object: sizedObject(steps, options.objectBytes, options.delaySeconds),
  };
  const api = new ApiClient({ endpoint: apiUrl });
  const ids = await mapLimit(Array.from({ length: machines }), 32, async () => (await api.addMachine(definition)).id);
  const pending = new Set(ids);
  await pollUntil(
    () => stillRunning(api, pending),
    (running) => running === 0,
    { timeoutMs, intervalMs: 200, what: 'the workload to finish (machines still running)' },
  );

  const histories = await mapLimit(ids, 16, async (id) => {
    const { events } = await api.history(id);
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
