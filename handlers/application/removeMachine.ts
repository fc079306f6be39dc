import { HISTORY_PURGE_BATCH } from '../../domain/limits';
import { type HistoryOwner, historyKey } from '../../domain/machine';
import type { MachineStore, StepQueue } from './ports';

/**
 * Deletes a machine's record, then its history: a batch now, the rest from the queue, so a
 * history of any length is purged without one request having to outlast it. Reads go through
 * the record, so the history is gone for clients at once.
 */
export async function removeMachine(deps: { store: MachineStore; queue: StepQueue }, owner: HistoryOwner) {
  await deps.store.deleteRecord(owner.id);
  await purgeHistory(deps, historyKey(owner));
}

/** One batch of a deleted machine's history; the next batch is asked for on the queue. */
export async function purgeHistory(deps: { store: MachineStore; queue: StepQueue }, key: string): Promise<boolean> {
  const more = await deps.store.purgeHistory(key, HISTORY_PURGE_BATCH);
  if (more) await deps.queue.send({ message: { purgeHistory: key }, delaySeconds: 0 });
  return more;
}
