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
  'pendingEvents',
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
const toEvent = (item: Item): HistoryEvent => pick<HistoryEvent>(item, EVENT_FIELDS);

/** A history item's events, oldest first: those it carries from earlier commits, then its own. */
export const toEvents = (item: Item): HistoryEvent[] => [
  ...((item.earlierEvents as Item[] | undefined) ?? []).map(toEvent),
  toEvent(item),
];

/**
 * A history item: the latest of `events` under its machine's key and `seq`, the earlier ones (a
 * chain's, written together: docs/design.md#history) with it, and its own expiry.
 */
export function toHistoryItem(id: string, events: HistoryEvent[], expiresAt: number): Item {
  const earlierEvents = events.slice(0, -1);
  return {
    id,
    ...events.at(-1),
    ...(earlierEvents.length > 0 ? { earlierEvents } : {}),
    expiresAt,
  };
}
