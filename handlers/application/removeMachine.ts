import { HISTORY_PURGE_BATCH } from '../../domain/limits';
import { historyKey, type MachineRecord } from '../../domain/machine';
import type { MachineStore, StepQueue } from './ports';

/**
 * Deletes a machine's record, then its history: a batch now, the rest from the queue, so a
 * history of any length is purged without one request having to outlast it. Reads go through
 * the record, so the history is gone for clients at once. The record is deleted only as it was
 * read (a record being removed never changes), so a machine added again under the same name
 * meanwhile is not touched; the history purged is the read machine's either way.
 */
export async function removeMachine(deps: { store: MachineStore; queue: StepQueue }, record: MachineRecord) {
  await deps.store.deleteRecord(record);
  await purgeHistory(deps, historyKey(record));
}

/** One batch of a deleted machine's history; the next batch is asked for on the queue. */
export async function purgeHistory(deps: { store: MachineStore; queue: StepQueue }, key: string): Promise<boolean> {
  const more = await deps.store.purgeHistory(key, HISTORY_PURGE_BATCH);
  if (more) await deps.queue.send({ message: { purgeHistory: key }, delaySeconds: 0 });
  return more;
}
