import type { HistoryEvent, MachineRecord, MachineSummary } from '../../../domain/machine';

/**
 * Between stored items and domain records. Items are written as records are (DynamoDB's
 * document client maps JSON types one to one); reading picks the fields the domain knows, so an
 * attribute only the store uses (a history item's `id` and `expiresAt`) never leaks out.
 */
type Item = Record<string, unknown>;

const RECORD_FIELDS = [
  'id',
  'name',
  'state',
  'status',
  'object',
  'config',
  'options',
  'catch',
  'timeouts',
  'version',
  'attempt',
  'woken',
  'seq',
  'lastEvent',
  'fingerprint',
  'removing',
  'lease',
  'carrier',
  'wakeAt',
  'error',
  'caught',
  'createdAt',
  'updatedAt',
  'finishedAt',
  'expiresAt',
] as const satisfies readonly (keyof MachineRecord)[];

const EVENT_FIELDS = [
  'seq',
  'outcome',
  'at',
  'version',
  'from',
  'to',
  'delay',
  'attempt',
  'error',
  'by',
] as const satisfies readonly (keyof HistoryEvent)[];

export const SUMMARY_FIELDS = [
  'id',
  'name',
  'state',
  'status',
  'version',
  'createdAt',
  'updatedAt',
  'expiresAt',
] as const satisfies readonly (keyof MachineSummary)[];

function pick<T>(item: Item, fields: readonly string[]): T {
  const picked: Item = {};
  for (const field of fields) if (item[field] !== undefined) picked[field] = item[field];
  return picked as T;
}

export const toRecord = (item: Item): MachineRecord => pick<MachineRecord>(item, RECORD_FIELDS);
export const toSummary = (item: Item): MachineSummary => pick<MachineSummary>(item, SUMMARY_FIELDS);
export const toEvent = (item: Item): HistoryEvent => pick<HistoryEvent>(item, EVENT_FIELDS);

/** A history item: the event under its machine's key, with its own expiry. */
export const toHistoryItem = (id: string, event: HistoryEvent, expiresAt: number): Item => ({
  id,
  ...event,
  expiresAt,
});
