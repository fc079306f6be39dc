import * as z from 'zod';
import { fieldIssues, MACHINE_NAME } from './definition';
import { ValidationError } from './errors';
import {
  DEFAULT_HISTORY_PAGE_SIZE,
  DEFAULT_PAGE_SIZE,
  MAX_HISTORY_PAGE_SIZE,
  MAX_PAGE_SIZE,
  MAX_STATUS_SHARDS,
} from './limits';
import { ALIVE_STATUSES, type MachineStatus, STATUSES } from './machine';
import { createdKey } from './statusIndex';

/** A machine as the status index holds it (the merge's unit): id, status and createdAt. */
export interface IndexPosition {
  id: string;
  status: MachineStatus;
  createdAt: string;
}

/** Where a listing stopped: the last machine it returned (every shard continues below it). */
const positionSchema = z.strictObject({ createdAt: z.string().min(1).max(64), id: z.string().regex(MACHINE_NAME) });
export type ListPosition = z.infer<typeof positionSchema>;

/**
 * A listing's cursor. `after`: the last machine returned; every shard of every status continues
 * exactly below it in the index order (createdAt, then id, newest first), which is each shard's
 * own order, so one position serves every shard. `done`: per status listed, one character per
 * shard, `1` when that shard is exhausted (it is not queried again), else `0`.
 */
const cursorSchema = z.strictObject({
  after: positionSchema.optional(),
  done: z.partialRecord(z.enum(STATUSES), z.string().regex(new RegExp(`^[01]{1,${MAX_STATUS_SHARDS}}$`))).optional(),
});
export type ListCursor = z.infer<typeof cursorSchema>;

/** `status=ALL`: every status at once. */
export const ALL_STATUSES = 'ALL';

/** One status, `ALL`, or a comma list of statuses (`FAILED,SUCCEEDED`), as the set of statuses to list. */
const statusesSchema = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    if (value === ALL_STATUSES) return [...STATUSES];
    const wanted = value.split(',');
    const unknown = wanted.filter((status) => !(STATUSES as readonly string[]).includes(status));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `'${unknown.join("', '")}' is not a status: use ${STATUSES.join(', ')}, a comma list of them, or ${ALL_STATUSES}`,
      });
      return z.NEVER;
    }
    return STATUSES.filter((status) => wanted.includes(status));
  });

const listQuerySchema = z.object({
  status: statusesSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  nextToken: z.string().max(4096).optional(),
});

export interface ListRequest {
  statuses: MachineStatus[];
  limit: number;
  cursor: ListCursor;
}

/** Checks `GET /machines` query parameters; no status means the alive machines, `ALL` every one. */
export function parseListQuery(query: Record<string, string | undefined>): ListRequest {
  const parsed = listQuerySchema.safeParse(query);
  if (!parsed.success) throw new ValidationError('invalid list query', fieldIssues(parsed.error));
  const statuses = parsed.data.status ?? [...ALIVE_STATUSES];
  const { limit, nextToken } = parsed.data;
  if (nextToken === undefined) return { statuses, limit, cursor: {} };
  const cursor = decodeCursor(nextToken);
  const listed = Object.keys(cursor.done ?? {});
  if (listed.length !== statuses.length || listed.some((status) => !statuses.includes(status as MachineStatus))) {
    throw invalidToken('nextToken belongs to a listing with other statuses');
  }
  return { statuses, limit, cursor };
}

function invalidToken(message: string): ValidationError {
  return new ValidationError('invalid list query', [{ path: 'nextToken', message }]);
}

/** A token's JSON, or undefined when it is not one of ours. */
function decodeToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function decodeCursor(token: string): ListCursor {
  const parsed = cursorSchema.safeParse(decodeToken(token));
  if (!parsed.success) throw invalidToken('not a token this API issued');
  return parsed.data;
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function encodeCursor(cursor: ListCursor): string {
  return encodeToken(cursor);
}

/** One shard of one status of the status index. */
export interface IndexShard {
  status: MachineStatus;
  shard: number;
}

export interface ShardPage extends IndexShard {
  /** Newest first, below the cursor's position, at most the request's `limit`. */
  keys: IndexPosition[];
  /** Whether the shard holds more items after `keys`. */
  more: boolean;
}

/** Index order, newest first: createdAt, then id (the index's range key, `createdAt#id`). */
const isNewer = (a: IndexPosition, b: IndexPosition) => createdKey(a) > createdKey(b);

/** The exhausted-shard flags of `status` from the cursor, as long as the shard count still matches. */
function doneFlags(cursor: ListCursor, status: MachineStatus, shards: number): string {
  const flags = cursor.done?.[status];
  return flags?.length === shards ? flags : '0'.repeat(shards);
}

/** The shards still to be read, and the position every one of them continues below. */
export function pendingShards(request: ListRequest, shards: number): { shards: IndexShard[]; after?: ListPosition } {
  const pending = request.statuses.flatMap((status) => {
    const done = doneFlags(request.cursor, status, shards);
    return Array.from({ length: shards }, (_, shard) => ({ status, shard })).filter(({ shard }) => done[shard] !== '1');
  });
  return { shards: pending, after: request.cursor.after };
}

/**
 * Merges one page per shard (each newest first and at most `limit` long, below the cursor)
 * into one page of `limit`, newest first, and the cursor that continues every shard exactly
 * after what was returned.
 */
export function mergePages(
  pages: ShardPage[],
  limit: number,
  request: Pick<ListRequest, 'statuses' | 'cursor'>,
  shards: number,
): { keys: IndexPosition[]; next?: ListCursor } {
  // A k-way merge: what it takes from a shard is a prefix of that shard's page, and it takes the
  // newest `limit` of all the shards' items, so whatever is left in any shard is below the last
  // one taken, which is where the cursor continues all of them.
  const queues = pages.map((page) => ({ page, keys: [...page.keys] }));
  const merged: IndexPosition[] = [];
  while (merged.length < limit) {
    let newest: (typeof queues)[number] | undefined;
    for (const queue of queues) {
      const head = queue.keys[0];
      if (head && (!newest || isNewer(head, newest.keys[0] as IndexPosition))) newest = queue;
    }
    const taken = newest?.keys.shift();
    if (!taken) break;
    merged.push(taken);
  }
  const done: Partial<Record<MachineStatus, string[]>> = {};
  for (const status of request.statuses) done[status] = [...doneFlags(request.cursor, status, shards)];
  for (const { page, keys } of queues) {
    if (keys.length === 0 && !page.more) (done[page.status] as string[])[page.shard] = '1';
  }
  const flags = Object.fromEntries(Object.entries(done).map(([status, bits]) => [status, bits.join('')]));
  if (Object.values(flags).every((bits) => !bits.includes('0'))) return { keys: merged };
  const last = merged.at(-1);
  const after = last ? { createdAt: last.createdAt, id: last.id } : request.cursor.after;
  return { keys: merged, next: { ...(after ? { after } : {}), done: flags } };
}

const historyQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE_SIZE).default(DEFAULT_HISTORY_PAGE_SIZE),
  nextToken: z.string().max(64).optional(),
});
const historyCursorSchema = z.strictObject({ after: z.number().int().min(0) });

/** Checks `GET /machines/{id}/history` query parameters: a page size and where to go on. */
export function parseHistoryQuery(query: Record<string, string | undefined>): { limit: number; after?: number } {
  const parsed = historyQuerySchema.safeParse(query);
  if (!parsed.success) throw new ValidationError('invalid history query', fieldIssues(parsed.error));
  const { limit, nextToken } = parsed.data;
  if (nextToken === undefined) return { limit };
  const cursor = historyCursorSchema.safeParse(decodeToken(nextToken));
  if (!cursor.success) {
    throw new ValidationError('invalid history query', [{ path: 'nextToken', message: 'not a token this API issued' }]);
  }
  return { limit, after: cursor.data.after };
}

export function encodeHistoryToken(after: number): string {
  return encodeToken({ after });
}
