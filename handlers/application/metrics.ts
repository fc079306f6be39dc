import type { HistoryOutcome, MachineRecord } from '../../domain/machine';
import type { MessageDisposition } from './disposition';

/** Counters the use cases emit (Powertools Metrics on AWS: EMF, dimensions service + stage). */
export const COUNT_METRICS = [
  'MachinesStarted',
  'MachinesSucceeded',
  'MachinesFailed',
  'TransitionsCommitted',
  'HandlerErrors',
  'Retries',
  'Throttles',
  'DeadLettered',
  'RecordsFailed',
  'OverdueStepsResent',
] as const;
export type CountMetric = (typeof COUNT_METRICS)[number];

/** Durations in milliseconds: StepLatency from a step's due time to its commit; HandlerDuration of the invoke. */
export const TIMING_METRICS = ['StepLatency', 'HandlerDuration'] as const;
export type TimingMetric = (typeof TIMING_METRICS)[number];

/** The metrics port: adapters/metrics (Powertools) on AWS, an in-memory fake in tests. No machine ids. */
export interface StepMetrics {
  count(metric: CountMetric, value?: number): void;
  timing(metric: TimingMetric, milliseconds: number): void;
}

/** For callers that measure nothing (the benchmark, scripts). */
export const NO_METRICS: StepMetrics = {
  count: () => {},
  timing: () => {},
};

/** The counters a committed event adds besides TransitionsCommitted. */
const BY_OUTCOME: Partial<Record<HistoryOutcome, CountMetric>> = {
  succeeded: 'MachinesSucceeded',
  failed: 'MachinesFailed',
  retry: 'Retries',
};

/** Records a committed step: TransitionsCommitted, the outcome's counter, and how late it was. */
export function recordCommit(metrics: StepMetrics, committed: MachineRecord, dueAt: number, now: number): void {
  metrics.count('TransitionsCommitted');
  // A wait's expiry fails a machine under its own outcome (timed-out, heartbeat-missed).
  const outcome = committed.status === 'FAILED' ? 'MachinesFailed' : BY_OUTCOME[committed.lastEvent.outcome];
  if (outcome) metrics.count(outcome);
  metrics.timing('StepLatency', Math.max(0, now - dueAt));
}

/**
 * What the processor logs for each step, at INFO: who, where and how it ended. Never the
 * machine's object or config (they may hold personal data and be 256 KiB): at DEBUG only their
 * size and top-level keys (stepDebugFields).
 */
export interface StepLogFields {
  id: string;
  version: number;
  attempt: number;
  state?: string;
  status?: string;
  outcome: MessageDisposition;
  event?: HistoryOutcome;
}

export function stepLogFields(
  message: { id: string; version: number; attempt: number },
  outcome: MessageDisposition,
  record?: Pick<MachineRecord, 'state' | 'status' | 'lastEvent'>,
): StepLogFields {
  return {
    id: message.id,
    version: message.version,
    attempt: message.attempt,
    outcome,
    ...(record ? { state: record.state, status: record.status, event: record.lastEvent.outcome } : {}),
  };
}

/** DEBUG only: the object's size in bytes (as JSON) and its first 20 top-level keys, never its values. */
export function stepDebugFields(object: unknown): { objectBytes: number; objectKeys: string[] } {
  const json = JSON.stringify(object) ?? '';
  const keys = object !== null && typeof object === 'object' && !Array.isArray(object) ? Object.keys(object) : [];
  return { objectBytes: Buffer.byteLength(json), objectKeys: keys.slice(0, 20) };
}
