import { dueBucketOf } from '../../domain/statusIndex';
import { overdueStep } from '../../domain/step';
import type { StepMetrics } from './metrics';
import type { MachineStore, StepQueue } from './ports';

export interface SweepDeps {
  store: MachineStore;
  queue: StepQueue;
  now: () => number;
  metrics?: StepMetrics;
}

/** Candidates one sweep reads per shard at most; a later sweep takes the rest (those re-sent move on). */
export const SWEEP_LIMIT_PER_SHARD = 100;

/**
 * RUNNING machines whose step was due in the bucket of `now - graceMs` or before, by the due
 * index (docs/design.md "The due index"): every machine overdue by more than `graceMs`, and a
 * few due a little later (in that same bucket), which `resendIfOverdue` then leaves alone.
 */
export async function overdueCandidates(store: MachineStore, now: number, graceMs: number): Promise<string[]> {
  const upTo = dueBucketOf(now - graceMs);
  const shards = Array.from({ length: store.statusShards }, (_, shard) => shard);
  const pages = await Promise.all(shards.map((shard) => store.dueByShard(shard, upTo, SWEEP_LIMIT_PER_SHARD)));
  return pages.flat();
}

/**
 * Sends machine `id`'s current step again if, read now (record and lease), it is RUNNING, due for
 * more than `graceMs` and nobody runs it (domain/step.ts `overdueStep`). True when it did.
 */
export async function resendIfOverdue(deps: SweepDeps, id: string, graceMs: number): Promise<boolean> {
  const record = await deps.store.getWithLease(id);
  const resend = record && overdueStep(record, deps.now(), graceMs);
  if (!resend) return false;
  await deps.queue.send(resend);
  return true;
}

/**
 * The sweeper (docs/design.md "Lost messages"): finds the machines whose step message was lost
 * and sends it again; counts them in the OverdueStepsResent metric.
 */
export async function sweepOverdue(deps: SweepDeps, graceMs: number): Promise<{ candidates: number; resent: number }> {
  const ids = await overdueCandidates(deps.store, deps.now(), graceMs);
  let resent = 0;
  for (const id of ids) if (await resendIfOverdue(deps, id, graceMs)) resent++;
  if (resent > 0) deps.metrics?.count('OverdueStepsResent', resent);
  return { candidates: ids.length, resent };
}
