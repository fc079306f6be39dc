import { MachineNotFoundError } from '../../domain/errors';
import { fullHistory, type HistoryEvent, isExpired, type MachineRecord } from '../../domain/machine';
import { getServices } from '../services';

/** The machine `id` as clients may see it: 404 when it is missing or past its retention. */
export async function readMachine(id: string, now = Date.now()): Promise<MachineRecord> {
  const record = await getServices().store.get(id);
  if (!record || isExpired(record, now)) throw new MachineNotFoundError(id);
  return record;
}

/** The machine and its whole history, oldest first. */
export async function readMachineWithHistory(id: string): Promise<{ record: MachineRecord; events: HistoryEvent[] }> {
  const [record, written] = await Promise.all([readMachine(id), getServices().store.history(id)]);
  return { record, events: fullHistory(record, written) };
}
