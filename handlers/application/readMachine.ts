import { MachineNotFoundError } from '../../domain/errors';
import { MAX_DIAGRAM_EVENTS, MAX_HISTORY_PAGE_SIZE } from '../../domain/limits';
import { type HistoryEvent, historyPage, isExpired, type MachineRecord } from '../../domain/machine';
import type { MachineStore } from './ports';

/** The machine `id` as clients may see it: 404 when it is missing or past its retention. */
export async function readMachine(store: MachineStore, id: string, now: number): Promise<MachineRecord> {
  const record = await store.getWithLease(id);
  if (!record || isExpired(record, now)) throw new MachineNotFoundError(id);
  return record;
}

/** One page of the machine's history, oldest first, and where the next page starts. */
export async function readHistory(
  store: MachineStore,
  id: string,
  now: number,
  page: { after?: number; limit: number },
): Promise<{ record: MachineRecord; events: HistoryEvent[]; next?: number }> {
  const record = await readMachine(store, id, now);
  return { record, ...historyPage(record, await store.history(record, page), page) };
}

/** The machine and its oldest MAX_DIAGRAM_EVENTS events; `complete` when that is all of them. */
export async function readMachineWithHistory(
  store: MachineStore,
  id: string,
  now: number,
): Promise<{ record: MachineRecord; events: HistoryEvent[]; complete: boolean }> {
  const record = await readMachine(store, id, now);
  const events: HistoryEvent[] = [];
  let after: number | undefined;
  while (events.length < MAX_DIAGRAM_EVENTS) {
    const limit = Math.min(MAX_HISTORY_PAGE_SIZE, MAX_DIAGRAM_EVENTS - events.length);
    const page = historyPage(record, await store.history(record, { after, limit }), { after, limit });
    events.push(...page.events);
    if (page.next === undefined) return { record, events, complete: true };
    after = page.next;
  }
  return { record, events, complete: false };
}
