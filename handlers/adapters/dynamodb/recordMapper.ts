import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { Json } from '../../../domain/definition';
import {
  DEFINITION_FIELDS,
  type HistoryEvent,
  historyKey,
  type MachineRecord,
  type MachineSummary,
  withoutDefinition,
} from '../../../domain/machine';
import { itemSize } from '../../../domain/storable';

/**
 * Between stored items and domain records. A record is stored as two items
 * (docs/design.md#the-record): the machine's item, written by every commit, and its definition
 * (the fields written at add only), written once, as the history table's item at `DEFINITION_SEQ`
 * of the machine's history key. A JSON value that compresses to fewer bytes than DynamoDB counts
 * for it is stored as its compressed JSON, in a binary attribute named with a `Z`. Reading
 * takes both layouts (a record written before the split holds its definition itself, its object
 * as a map) and picks the fields the domain knows, so an attribute only the store uses (a
 * history item's `id` and `expiresAt`) never leaks out.
 */
type Item = Record<string, unknown>;

/** The definition item's place among the history items of its machine: before every event. */
export const DEFINITION_SEQ = -1;

/** Compressed JSON of an object the store has measured, by identity: a step measures and puts the same object. */
const compressed = new WeakMap<object, Uint8Array>();

/** Brotli at quality 4: as fast as gzip on workflow JSON and 5-10 % smaller (docs/design.md#the-record). */
function compress(value: Json): Uint8Array {
  const cached = typeof value === 'object' && value !== null ? compressed.get(value) : undefined;
  if (cached) return cached;
  const json = Buffer.from(JSON.stringify(value));
  const bytes = brotliCompressSync(json, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 4,
      [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
      // A window just large enough for the input compresses it the same: the default 4 MB window
      // is allocated on every call, and made a commit's small object three times slower to pack.
      [constants.BROTLI_PARAM_LGWIN]: Math.min(
        constants.BROTLI_MAX_WINDOW_BITS,
        Math.max(constants.BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(json.length + 1))),
      ),
    },
  });
  if (typeof value === 'object' && value !== null) compressed.set(value, bytes);
  return bytes;
}

/** `{ [name]: value }`, or `{ [name + 'Z']: its compressed JSON }` when that takes fewer bytes as DynamoDB counts them. */
function packed(name: string, value: Json): Item {
  const bytes = compress(value);
  return bytes.byteLength + 1 < itemSize({ '': value }) ? { [`${name}Z`]: bytes } : { [name]: value };
}

function unpacked(item: Item, name: string): Json | undefined {
  const bytes = item[`${name}Z`];
  if (bytes instanceof Uint8Array) return JSON.parse(brotliDecompressSync(bytes).toString('utf8')) as Json;
  return item[name] as Json | undefined;
}

/** What the store keeps once per machine: the definition, as its add wrote it. */
export type Definition = Pick<MachineRecord, (typeof DEFINITION_FIELDS)[number]>;

export function definitionOf(record: MachineRecord): Definition {
  const definition: Item = {};
  for (const field of DEFINITION_FIELDS) if (record[field] !== undefined) definition[field] = record[field];
  return definition as unknown as Definition;
}

/**
 * The machine's item as every commit writes it: the record without its definition, the object
 * packed, and the events of a chain's record (its pending ones and its latest) packed together:
 * compressed, several more of them ride in the record's last KB.
 */
export function toRecordItem(record: MachineRecord): Item {
  const { object, pendingEvents, lastEvent, ...rest } = withoutDefinition(record);
  const events = pendingEvents ? packed('events', [...pendingEvents, lastEvent] as unknown as Json) : {};
  return {
    ...rest,
    ...packed('object', object),
    ...(events.eventsZ ? events : { lastEvent, ...(pendingEvents ? { pendingEvents } : {}) }),
  };
}

/** The definition's item: the history table's item of the machine's history key at DEFINITION_SEQ. */
export function toDefinitionItem(record: MachineRecord, extra: Item = {}): Item {
  return { ...definitionKey(record), ...packed('definition', definitionOf(record) as unknown as Json), ...extra };
}

export const definitionKey = (owner: Pick<MachineRecord, 'id' | 'createdAt'>) => ({
  id: historyKey(owner),
  seq: DEFINITION_SEQ,
});

export const fromDefinitionItem = (item: Item): Definition => unpacked(item, 'definition') as unknown as Definition;

/** Whether a machine's item holds its definition itself (written before the definition was kept apart). */
export const holdsDefinition = (item: Item): boolean => item.config !== undefined;

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
  'callbackKey',
  'wait',
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

/** The record from the machine's item and, unless the item holds it, its definition. */
export const toRecord = (item: Item, definition?: Definition): MachineRecord =>
  pick<MachineRecord>({ ...item, ...definition, object: unpacked(item, 'object'), ...eventsOf(item) }, RECORD_FIELDS);

/** `lastEvent` and `pendingEvents` of a machine's item, packed together or not. */
function eventsOf(item: Item): Item {
  const packedEvents = unpacked(item, 'events') as unknown as HistoryEvent[] | undefined;
  if (!packedEvents) return { lastEvent: item.lastEvent, pendingEvents: item.pendingEvents };
  return { pendingEvents: packedEvents.slice(0, -1), lastEvent: packedEvents.at(-1) };
}

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
