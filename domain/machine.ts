import * as z from 'zod';
import {
  byteLength,
  definitionFingerprint,
  type Json,
  type MachineDefinition,
  type MachineOptions,
} from './definition';
import { PayloadTooLargeError, ValidationError } from './errors';
import { MAX_DELAY_SECONDS, MAX_MACHINE_BYTES, MAX_RECORD_BYTES, SQS_MAX_DELAY_SECONDS } from './limits';
import type { MachineStatus } from './status';
import { itemSize, storedJsonBytes } from './storable';

export { ALIVE_STATUSES, isFinished, type MachineStatus, STATUSES } from './status';

export type HistoryOutcome =
  | 'created'
  | 'transition'
  | 'retry'
  | 'parked'
  | 'resumed'
  | 'succeeded'
  | 'failed'
  | 'removal'
  | 'caught'
  | 'redriven'
  | 'woken'
  /** The outcomes of a wait for a callback (docs/design.md "Callbacks"). */
  | 'callback-failed'
  | 'timed-out'
  | 'heartbeat-missed'
  | 'heartbeat';

/** One entry of a machine's history; `seq` orders the events and makes writing one idempotent. */
export interface HistoryEvent {
  seq: number;
  outcome: HistoryOutcome;
  at: string;
  version: number;
  from?: string;
  to?: string;
  delay?: number;
  attempt?: number;
  error?: string;
  /**
   * Who asked for it, on the events the API makes (created, removal, resumed, redriven, woken):
   * the IAM caller's ARN or the JWT's subject (docs/operating.md "Who did what"); absent when the
   * API is open.
   */
  by?: string;
}

/** The `by` of an event, when the caller is known. */
export const byCaller = (by: string | undefined): Pick<HistoryEvent, 'by'> => (by === undefined ? {} : { by });

export interface MachineError {
  message: string;
  state: string;
  at: string;
}

/** A failure a `catch` sent to another state: handed to that state's handler as `error`. */
export interface CaughtError extends MachineError {
  /** The attempt of the failed state whose failure was caught (its last). */
  attempt: number;
}

/** Who is running the current step, and until when (epoch milliseconds) that claim holds. */
export interface Lease {
  token: string;
  until: number;
}

export interface MachineRecord {
  id: string;
  name?: string;
  state: string;
  status: MachineStatus;
  object: Json;
  config: Record<string, string>;
  options: MachineOptions;
  /** Where a failure of a state goes instead of FAILED: state (or `*`, every other state) -> state. */
  catch?: Record<string, string>;
  /** A state's handler timeout in seconds, by state (or `*`, every other state). */
  timeouts?: Record<string, number>;
  /** Committed steps: each handler result that moved, finished, failed or parked the machine. */
  version: number;
  /** 1-based attempt of the current step; a retry keeps `version` and increments this. */
  attempt: number;
  /**
   * How often the wake API ran the current step attempt ahead of its `wakeAt`: the third part
   * of the step's identity (absent = 0), so the message the wait had scheduled becomes stale.
   */
  woken?: number;
  /** Counts every committed write; the key of the history event that write produced. */
  seq: number;
  /** The event of the latest commit, kept here because there are no transactions to write it with. */
  lastEvent: HistoryEvent;
  /**
   * Events of the commits before `lastEvent` that are not in the history table yet, oldest first:
   * a chain of steps run on carries them here while that costs no write unit
   * (docs/design.md#history).
   */
  pendingEvents?: HistoryEvent[];
  fingerprint: string;
  removing?: boolean;
  lease?: Lease;
  /**
   * The step a processor ran on to without a message of its own (docs/design.md#run-on): the
   * message it holds, unacknowledged, counts as this step's until the chain ends.
   */
  carrier?: StepCarrier;
  wakeAt?: string;
  error?: MachineError;
  /** The failure the current state was entered to handle (set by a `caught` commit, kept by its retries). */
  caught?: CaughtError;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Epoch seconds; DynamoDB's TTL attribute. */
  expiresAt?: number;
  /**
   * The machine's own random key of its callback tokens, written at add with the definition,
   * never shown (docs/design.md "Callbacks"); absent on machines added before tokens existed.
   */
  callbackKey?: string;
  /** What a PARKED machine waits for: the step whose token answers it, and its deadlines. */
  wait?: Wait;
}

/** A park's wait for a callback (docs/design.md "Callbacks"). */
export interface Wait {
  /** The step whose handler parked: the one its `callbackToken` was minted for. */
  step: StepCarrier;
  /** When the wait fails as timed out, if the park gave a `timeout`. */
  timeoutAt?: string;
  /** The park's `heartbeat`: the longest the wait may go without an answer or a heartbeat. */
  heartbeatSeconds?: number;
  /** When the wait fails as its heartbeat missed: the last heartbeat (or the park) + heartbeatSeconds. */
  heartbeatAt?: string;
}

/**
 * What the queue carries: the step (`version`) and the attempt at it that should run next, and
 * `woken` when the wake API sent it (the step attempt's wake count; absent = 0).
 */
export const stepMessageSchema = z.strictObject({
  id: z.string().min(1).max(256),
  version: z.number().int().min(0),
  attempt: z.number().int().min(1),
  woken: z.number().int().min(1).optional(),
});
export type StepMessage = z.infer<typeof stepMessageSchema>;

/** A message to send and how long SQS should hold it back; `delaySeconds` is already capped for SQS. */
export interface ScheduledMessage {
  message: StepMessage | PurgeMessage;
  delaySeconds: number;
}

/** A step message to send: what the rules of a step (and resume, redrive, wake) schedule. */
export interface ScheduledStep extends ScheduledMessage {
  message: StepMessage;
}

/** The step a message asks for, or a record is at; `woken` 0 when absent. */
export function stepOf(record: Pick<MachineRecord, 'id' | 'version' | 'attempt' | 'woken'>): StepMessage {
  const { id, version, attempt, woken } = record;
  return woken ? { id, version, attempt, woken } : { id, version, attempt };
}

/** The message a step that ran on is carried by: its step, as the message named it. */
export type StepCarrier = Omit<StepMessage, 'id'>;

/** The message's step against the record's current step (-1, 0, +1); the record's carrier is its current step's. */
export function orderOf(message: StepMessage, record: MachineRecord): number {
  return record.carrier && compareSteps(message, record.carrier) === 0 ? 0 : compareSteps(message, record);
}

/** -1, 0 or +1 as step `a` is before, the same as or after step `b`: (version, attempt, woken) in order. */
export function compareSteps(a: Omit<StepMessage, 'id'>, b: Omit<StepMessage, 'id'>): number {
  return (
    Math.sign(a.version - b.version) || Math.sign(a.attempt - b.attempt) || Math.sign((a.woken ?? 0) - (b.woken ?? 0))
  );
}

const iso = (now: number) => new Date(now).toISOString();

/** The record of a newly added machine and its first message. */
export function createMachine(
  definition: MachineDefinition,
  {
    id,
    now,
    by,
    callbackKey,
    maxQueueDelaySeconds = SQS_MAX_DELAY_SECONDS,
  }: { id: string; now: number; by?: string; callbackKey?: string; maxQueueDelaySeconds?: number },
): { record: MachineRecord; first: ScheduledMessage } {
  const at = iso(now);
  const { delay, wakeAt } = startOf(definition, now);
  const record: MachineRecord = {
    id,
    ...(definition.name === undefined ? {} : { name: definition.name }),
    state: definition.state,
    status: 'RUNNING',
    object: definition.object,
    config: definition.config,
    options: definition.options,
    ...(definition.catch === undefined ? {} : { catch: definition.catch }),
    ...(definition.timeouts === undefined ? {} : { timeouts: definition.timeouts }),
    version: 0,
    attempt: 1,
    seq: 0,
    lastEvent: {
      seq: 0,
      outcome: 'created',
      at,
      version: 0,
      to: definition.state,
      ...(delay > 0 ? { delay } : {}),
      ...byCaller(by),
    },
    fingerprint: definitionFingerprint(definition),
    createdAt: at,
    updatedAt: at,
    ...(callbackKey === undefined ? {} : { callbackKey }),
    ...(wakeAt === undefined ? {} : { wakeAt }),
  };
  assertFits(record);
  const delaySeconds = Math.min(delay, maxQueueDelaySeconds);
  return { record, first: { message: { id, version: 0, attempt: 1 }, delaySeconds } };
}

/**
 * How long the first step waits (docs/design.md "Start later"): `startDelay`, or until
 * `startAt` (one in the past starts now; one more than a year ahead is refused, as a delay is).
 */
function startOf(definition: MachineDefinition, now: number): { delay: number; wakeAt?: string } {
  const at = definition.startAt === undefined ? undefined : Date.parse(definition.startAt);
  if (at === undefined) {
    const delay = definition.startDelay ?? 0;
    return delay > 0 ? { delay, wakeAt: iso(now + delay * 1000) } : { delay };
  }
  const delay = Math.max(Math.ceil((at - now) / 1000), 0);
  if (delay > MAX_DELAY_SECONDS) {
    throw new ValidationError('invalid machine definition', [
      { path: 'startAt', message: `must be at most ${MAX_DELAY_SECONDS} seconds (one year) ahead` },
    ]);
  }
  return delay > 0 ? { delay, wakeAt: iso(at) } : { delay };
}

/**
 * The fields written at add only, which the store keeps apart from the record, once
 * (docs/design.md#the-record): a commit does not write them again.
 */
export const DEFINITION_FIELDS = [
  'config',
  'options',
  'catch',
  'timeouts',
  'fingerprint',
  'callbackKey',
] as const satisfies readonly (keyof MachineRecord)[];

/**
 * At most the bytes the record's item takes as the store writes it, as DynamoDB counts them:
 * without the definition, the object as itself or as compressed JSON, the smaller
 * (docs/design.md#limits).
 */
export function storedRecordBytes(record: MachineRecord): number {
  const { object, ...rest } = withoutDefinition(record);
  return itemSize(rest) + 'objectZ'.length + storedJsonBytes(object);
}

/** What every commit writes of a record: all but its definition. */
export function withoutDefinition(record: MachineRecord): Omit<MachineRecord, (typeof DEFINITION_FIELDS)[number]> {
  const rest: Partial<MachineRecord> = { ...record };
  for (const field of DEFINITION_FIELDS) delete rest[field];
  return rest as Omit<MachineRecord, (typeof DEFINITION_FIELDS)[number]>;
}

/**
 * Why `record` is too large to be a machine, if it is: its object and config over
 * MAX_MACHINE_BYTES of JSON (the documented limit, as Step Functions' 256 KB of state), or the
 * record's item over MAX_RECORD_BYTES as DynamoDB counts what is stored (storedRecordBytes).
 */
export function oversize(record: MachineRecord): PayloadTooLargeError | undefined {
  const json = byteLength(record.object) + byteLength(record.config);
  if (json > MAX_MACHINE_BYTES) {
    return new PayloadTooLargeError(
      `the machine's object and config take ${json} bytes of JSON; the limit is ${MAX_MACHINE_BYTES}`,
      { bytes: json, limit: MAX_MACHINE_BYTES },
    );
  }
  const stored = storedRecordBytes(record);
  if (stored > MAX_RECORD_BYTES) {
    return new PayloadTooLargeError(
      `the machine takes ${stored} bytes as DynamoDB stores it; the limit is ${MAX_RECORD_BYTES}`,
      { bytes: stored, limit: MAX_RECORD_BYTES },
    );
  }
  return undefined;
}

/** Throws PayloadTooLargeError (413) for a record too large to be stored. */
export function assertFits(record: MachineRecord): void {
  const error = oversize(record);
  if (error) throw error;
}

/**
 * Past its retention: gone for clients even before DynamoDB's TTL deletes it (which can take
 * days on AWS, and never happens in the local emulator).
 */
export function isExpired(record: { expiresAt?: number }, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt * 1000 <= now;
}

/**
 * When the record's current step is due (epoch ms): its `wakeAt` (a delay or backoff), else when
 * the commit that scheduled it was made.
 */
export function dueAt(record: Pick<MachineRecord, 'wakeAt' | 'updatedAt'>): number {
  return Date.parse(record.wakeAt ?? record.updatedAt);
}

export function hasLiveLease(record: MachineRecord, now: number): boolean {
  return record.lease !== undefined && record.lease.until > now;
}

/** A machine as listings show it. */
export type MachineSummary = Pick<
  MachineRecord,
  'id' | 'name' | 'state' | 'status' | 'version' | 'createdAt' | 'updatedAt' | 'expiresAt'
>;

/** What clients see: the record without the lease internals. */
export type MachineView = Omit<
  MachineRecord,
  'lease' | 'lastEvent' | 'pendingEvents' | 'fingerprint' | 'seq' | 'carrier' | 'callbackKey'
> & {
  handlerRunning: boolean;
};

export function toView(record: MachineRecord, now: number): MachineView {
  const {
    lease: _lease,
    lastEvent: _lastEvent,
    pendingEvents: _pendingEvents,
    fingerprint: _fingerprint,
    seq: _seq,
    carrier: _carrier,
    callbackKey: _callbackKey,
    ...view
  } = record;
  return { ...view, handlerRunning: hasLiveLease(record, now) };
}

/** The record after one more committed write that produced `event`. */
export function withEvent(
  record: MachineRecord,
  event: Omit<HistoryEvent, 'seq' | 'at'>,
  now: number,
): Pick<MachineRecord, 'seq' | 'lastEvent' | 'updatedAt'> {
  const seq = record.seq + 1;
  return { seq, lastEvent: { seq, at: iso(now), ...event }, updatedAt: iso(now) };
}

/**
 * A machine still waiting for its very first step, with nobody on it: its first message may have
 * been lost (the add crashed between its two writes), so adding it again may send it again.
 */
export function isAwaitingFirstStep(record: MachineRecord, now: number): boolean {
  return record.status === 'RUNNING' && record.version === 0 && record.attempt === 1 && !hasLiveLease(record, now);
}

/**
 * The events the record holds that the history table may not have yet: its pending ones and its
 * latest, oldest first. The history item of the record's `seq` holds exactly these.
 */
export function unwrittenEvents(record: Pick<MachineRecord, 'lastEvent' | 'pendingEvents'>): HistoryEvent[] {
  return [...(record.pendingEvents ?? []), record.lastEvent];
}

/** Written and record-held events up to the record's `seq`, the record's only up to `recordUpTo`, by seq once each. */
function merged(record: MachineRecord, written: HistoryEvent[], recordUpTo: number): HistoryEvent[] {
  const bySeq = new Map(written.filter((event) => event.seq <= record.seq).map((event) => [event.seq, event]));
  for (const event of unwrittenEvents(record)) if (event.seq <= recordUpTo) bySeq.set(event.seq, event);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * One page of a machine's history, oldest first, from a page of written events (those after
 * `after`, in order, `more` when the table holds more): the events the record holds join the
 * page they belong to. `next` is where the following page starts, when there is one.
 */
export function historyPage(
  record: MachineRecord,
  written: { events: HistoryEvent[]; more: boolean },
  { after, limit }: { after?: number; limit: number },
): { events: HistoryEvent[]; next?: number } {
  const lastWritten = written.events.at(-1)?.seq ?? -1;
  const recordUpTo = written.more ? lastWritten : Number.POSITIVE_INFINITY;
  const events = merged(record, written.events, recordUpTo).filter((event) => after === undefined || event.seq > after);
  const page = events.slice(0, limit);
  const next = page.at(-1)?.seq;
  return (events.length > limit || written.more) && next !== undefined ? { events: page, next } : { events: page };
}

/** Which machine a history belongs to: a name can be used again once its machine is deleted. */
export type HistoryOwner = Pick<MachineRecord, 'id' | 'createdAt'>;

/**
 * The key of one machine's history items: its id and when it was created, so the history of a
 * deleted machine, still being purged, is never mixed with that of a new machine of the same name.
 */
export function historyKey(owner: HistoryOwner): string {
  return `${owner.id}/${owner.createdAt}`;
}

/** A queue message asking for the next batch of a deleted machine's history to be purged. */
export const purgeMessageSchema = z.strictObject({ purgeHistory: z.string().min(1).max(512) });
export type PurgeMessage = z.infer<typeof purgeMessageSchema>;
