import * as z from 'zod';
import { fieldIssues, MACHINE_NAME } from './definition';
import { ValidationError } from './errors';
import { DEFAULT_HISTORY_PAGE_SIZE, DEFAULT_PAGE_SIZE, MAX_HISTORY_PAGE_SIZE, MAX_PAGE_SIZE } from './limits';
import { ALIVE_STATUSES, type MachineStatus, STATUSES } from './machine';

const indexKeySchema = z.strictObject({
  id: z.string().regex(MACHINE_NAME),
  status: z.enum(STATUSES),
  createdAt: z.string().min(1).max(64),
});
export type IndexPosition = z.infer<typeof indexKeySchema>;

/** Per status: `null` = exhausted, absent = not started, a key of that status = continue after it. */
const cursorSchema = z
  .partialRecord(z.enum(STATUSES), indexKeySchema.nullable())
  .refine((cursor) => Object.entries(cursor).every(([status, key]) => key === null || key?.status === status));
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
  const cursor = parsed.data.nextToken === undefined ? {} : decodeCursor(parsed.data.nextToken);
  if (Object.keys(cursor).some((status) => !statuses.includes(status as MachineStatus))) {
    throw invalidToken('nextToken belongs to a listing with another status');
  }
  return { statuses, limit: parsed.data.limit, cursor };
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

export interface StatusPage {
  status: MachineStatus;
  keys: IndexPosition[];
  /** Whether the index holds more items after `keys`. */
  more: boolean;
}

/**
 * Merges one page per status (each newest first, each at most `limit` long) into one page of
 * `limit`, newest first, and the cursor that continues exactly after what was returned.
 */
export function mergePages(
  pages: StatusPage[],
  limit: number,
  previous: ListCursor,
): { keys: IndexPosition[]; next?: ListCursor } {
  // A k-way merge keeps each status's own index order, so what is taken from a status is always
  // a prefix of its page and the cursor can continue right after it.
  const queues = pages.map((page) => [...page.keys]);
  const merged: IndexPosition[] = [];
  while (merged.length < limit) {
    let newest: IndexPosition[] | undefined;
    for (const queue of queues) {
      const head = queue[0];
      if (head && (!newest || head.createdAt > (newest[0] as IndexPosition).createdAt)) newest = queue;
    }
    const taken = newest?.shift();
    if (!taken) break;
    merged.push(taken);
  }
  const next: ListCursor = { ...previous };
  for (const page of pages) {
    const taken = merged.filter((key) => key.status === page.status);
    const last = taken.at(-1);
    const exhausted = taken.length === page.keys.length && !page.more;
    next[page.status] = exhausted ? null : (last ?? previous[page.status]);
    if (!exhausted && last === undefined && previous[page.status] === undefined) delete next[page.status];
  }
  const done = pages.every((page) => next[page.status] === null);
  return done ? { keys: merged } : { keys: merged, next };
}

/** The statuses still to be read, with where to continue in each. */
export function pendingStatuses(request: ListRequest): { status: MachineStatus; after?: IndexPosition }[] {
  return request.statuses.flatMap((status) => {
    const position = request.cursor[status];
    if (position === null) return [];
    return [position === undefined ? { status } : { status, after: position }];
  });
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
