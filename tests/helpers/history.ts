import { type HistoryEvent, historyPage, type MachineRecord } from '../../domain/machine';

/** A machine's whole history as the API reads it: the written events plus those that live in the record. */
export function fullHistory(record: MachineRecord, written: HistoryEvent[]): HistoryEvent[] {
  return historyPage(record, { events: written, more: false }, { limit: Number.POSITIVE_INFINITY }).events;
}
