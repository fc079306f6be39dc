import { MachineNotFoundError } from '../../domain/errors';
import { fullHistory, type HistoryEvent, isExpired, type MachineRecord } from '../../domain/machine';
import type { MachineStore } from './ports';

/** The machine `id` as clients may see it: 404 when it is missing or past its retention. */
export async function readMachine(store: MachineStore, id: string, now: number): Promise<MachineRecord> {
  const record = await store.get(id);
  if (!record || isExpired(record, now)) throw new MachineNotFoundError(id);
  return record;
}

/** The machine and its whole history, oldest first. */
export async function readMachineWithHistory(
  store: MachineStore,
  id: string,
  now: number,
): Promise<{ record: MachineRecord; events: HistoryEvent[] }> {
  const [record, written] = await Promise.all([readMachine(store, id, now), store.history(id)]);
  return { record, events: fullHistory(record, written) };
}
