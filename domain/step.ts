import * as z from 'zod';
import type { StateHandlerInput } from './contract';
import { ANY_STATE, fieldIssues, type Json, stateNameSchema } from './definition';
import { ConflictError, ValidationError } from './errors';
import { DEFER_SECONDS, MAX_DELAY_SECONDS, MAX_ERROR_CHARS } from './limits';
import {
  assertFits,
  byCaller,
  dueAt,
  type HistoryEvent,
  type HistoryOutcome,
  hasLiveLease,
  type MachineRecord,
  orderOf,
  oversize,
  type ScheduledStep,
  type StepMessage,
  stepOf,
  withEvent,
} from './machine';
import { storableIssues } from './storable';
import { nextDeadline, parkedWait, type WaitDeadlines, waitDecision } from './wait';

export interface StepContext {
  /** Epoch milliseconds. */
  now: number;
  /** Longest single queue delay; SQS_MAX_DELAY_SECONDS in production, smaller in tests. */
  maxQueueDelaySeconds: number;
}

export type Decision =
  | { action: 'drop'; reason: 'missing' | 'stale' }
  | { action: 'delete' }
  /** `early`: the message overtook its commit, which is about to land; `leased`: a step is running. */
  | { action: 'defer'; delaySeconds: number; reason: 'early' | 'leased' }
  | { action: 'wait'; delaySeconds: number }
  /** A park's deadline passed with no answer: it fails (domain/callback.ts). */
  | { action: 'expire'; reason: 'timed-out' | 'heartbeat-missed' }
  | { action: 'run' };

/** What the transition processor does with `message`, given the machine's current record. */
export function decide(record: MachineRecord | undefined, message: StepMessage, context: StepContext): Decision {
  if (!record) return { action: 'drop', reason: 'missing' };
  const lease = hasLiveLease(record, context.now) ? record.lease : undefined;
  const leased = lease !== undefined;
  // Whoever holds a live lease may have died: a message for its step comes back when the lease
  // ends, to find the step committed (stale) or to take it over.
  const untilLeaseEnds = (until: number): Decision => ({
    action: 'defer',
    delaySeconds: Math.min(
      Math.max(Math.ceil((until - context.now) / 1000), DEFER_SECONDS),
      context.maxQueueDelaySeconds,
    ),
    reason: 'leased',
  });
  if (record.removing) return lease ? untilLeaseEnds(lease.until) : { action: 'delete' };

  const order = orderOf(message, record);
  // A message sent just before its commit can arrive before the commit lands: the lease is
  // still held, so it is early rather than stale. Without a live lease the sender died before
  // committing and the step will be redone from its own message, so the early one is dropped.
  const early = order > 0 || (order === 0 && record.status === 'PARKED');
  if (early) {
    if (leased) return { action: 'defer', delaySeconds: DEFER_SECONDS, reason: 'early' };
    // The message of a park's deadline names the parked step itself (docs/design.md "Deadlines").
    const deadline = order === 0 ? waitDecision(record, context) : undefined;
    return deadline ?? { action: 'drop', reason: 'stale' };
  }
  if (order < 0 || record.status !== 'RUNNING') return { action: 'drop', reason: 'stale' };
  if (lease) return untilLeaseEnds(lease.until);

  const remaining = secondsUntil(record.wakeAt, context.now);
  if (remaining >= 1) return { action: 'wait', delaySeconds: Math.min(remaining, context.maxQueueDelaySeconds) };
  return { action: 'run' };
}

function secondsUntil(wakeAt: string | undefined, now: number): number {
  return wakeAt === undefined ? 0 : Math.ceil((Date.parse(wakeAt) - now) / 1000);
}

/** What a state handler gave back. */
export type InvocationResult =
  | { kind: 'returned'; payload: unknown }
  | { kind: 'failed'; message: string; retryable: boolean }
  /** Lambda refused to run it now (concurrency limits): not the handler's failure, not an attempt. */
  | { kind: 'throttled'; message: string };

/** A state's own timeout (`timeouts`) passed before its handler answered: a retryable failure. */
export const stateTimedOut = (timeoutMs: number): InvocationResult => ({
  kind: 'failed',
  message: `timeout: no answer within the state's timeout of ${timeoutMs / 1000} s`,
  retryable: true,
});

/** What the handler itself made of the step: everything but a throttle, which never ran it. */
export type HandlerOutcome = Exclude<InvocationResult, { kind: 'throttled' }>;

const WHOLE_SECONDS = 'must be a whole number of seconds';

/** A park's `timeout` or `heartbeat` (docs/design.md "Deadlines"). */
const parkSeconds = z
  .number({ error: WHOLE_SECONDS })
  .int({ error: WHOLE_SECONDS })
  .min(1, { error: 'must be at least 1 second' })
  .max(MAX_DELAY_SECONDS, { error: `must be at most ${MAX_DELAY_SECONDS} seconds (one year)` })
  .optional();

/** A handler's result other than `null`; each message says what is wrong with its field (docs/design.md#results). */
const handlerResultSchema = z.looseObject(
  {
    state: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'is missing (the next state)' : 'must be a string (the next state)',
      })
      .pipe(stateNameSchema),
    object: z.json().optional(),
    delay: z
      .number({ error: WHOLE_SECONDS })
      .int({ error: WHOLE_SECONDS })
      .max(MAX_DELAY_SECONDS, { error: `must be at most ${MAX_DELAY_SECONDS} seconds (one year)` })
      .optional(),
    error: z.unknown().optional(),
    message: z.unknown().optional(),
    timeout: parkSeconds,
    heartbeat: parkSeconds,
  },
  { error: 'must be null (finished) or an object with the next state' },
);

export interface Commit {
  record: MachineRecord;
  send?: ScheduledStep;
}

/**
 * The machine after its current state's handler produced `outcome`: the record to commit
 * (without a lease) and, unless the machine finished or parked, the next message to send.
 * Pure: the caller performs the I/O.
 */
export function step(record: MachineRecord, outcome: HandlerOutcome, context: StepContext): Commit {
  if (outcome.kind === 'failed') {
    return outcome.retryable && record.attempt < record.options.retry.maxAttempts
      ? retry(record, outcome.message, context)
      : failure(record, outcome.message, context);
  }
  if (outcome.payload === null) return finish(record, context);
  // Checked before zod, whose recursion a deeply nested result would overflow.
  const unstorable = storableIssues(outcome.payload, 'result', { levelsAbove: 1 });
  const parsed = unstorable.length === 0 ? handlerResultSchema.safeParse(outcome.payload) : undefined;
  if (!parsed?.success) {
    const issues = parsed ? fieldIssues(parsed.error, ['result']) : unstorable;
    return failure(
      record,
      `malformed handler result: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      context,
    );
  }
  const result = parsed.data;
  const commit = afterResult(record, result, context);
  // A record DynamoDB would refuse must never be written: the machine fails with its last data.
  const tooLarge = oversize(commit.record);
  return tooLarge ? failure(record, `handler result too large: ${tooLarge.message}`, context) : commit;
}

function afterResult(
  record: MachineRecord,
  result: { state: string; object?: Json; delay?: number; error?: unknown; message?: unknown } & WaitDeadlines,
  context: StepContext,
): Commit {
  const object = result.object === undefined ? record.object : result.object;
  if ((result.timeout !== undefined || result.heartbeat !== undefined) && !((result.delay ?? 0) < 0)) {
    return failure(
      { ...record, object },
      'malformed handler result: result.timeout and result.heartbeat are for a park (delay -1) only',
      context,
    );
  }
  if (result.state === 'ERROR') {
    const reason = describe(result.error) ?? describe(result.message) ?? 'handler returned state ERROR';
    return failure({ ...record, object }, reason, context);
  }
  if (!Object.hasOwn(record.config, result.state)) {
    return failure({ ...record, object }, `handler returned state '${result.state}', which is not in config`, context);
  }
  return advance(record, result.state, object, result.delay ?? 0, context, result);
}

/** Error text as kept in the record and its history: at most MAX_ERROR_CHARS characters. */
export function truncateError(message: string): string {
  return message.length <= MAX_ERROR_CHARS ? message : `${message.slice(0, MAX_ERROR_CHARS - 1)}…`;
}

function describe(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function advance(
  record: MachineRecord,
  to: string,
  object: Json,
  delay: number,
  context: StepContext,
  deadlines: WaitDeadlines = {},
): Commit {
  const version = record.version + 1;
  const base = { ...leaveState(record), state: to, object, version, attempt: 1 };
  if (delay < 0) {
    const { wait, firstDeadlineSeconds } = parkedWait(record, deadlines, context.now);
    const parked: MachineRecord = {
      ...base,
      status: 'PARKED',
      wait,
      ...withEvent(record, { outcome: 'parked', version, from: record.state, to }, context.now),
    };
    // The deadline's message names the parked step: any answer moves the machine past it.
    return firstDeadlineSeconds === undefined
      ? { record: parked }
      : { record: parked, send: schedule({ id: record.id, version, attempt: 1 }, firstDeadlineSeconds, context) };
  }
  const event: Omit<HistoryEvent, 'seq' | 'at'> = { outcome: 'transition', version, from: record.state, to, delay };
  return {
    record: { ...base, status: 'RUNNING', ...wakeAtAfter(delay, context), ...withEvent(record, event, context.now) },
    send: schedule({ id: record.id, version, attempt: 1 }, delay, context),
  };
}

function retry(record: MachineRecord, error: string, context: StepContext): Commit {
  const message = truncateError(error);
  const attempt = record.attempt + 1;
  const delay = backoffSeconds(record.options.retry, record.attempt);
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome: 'retry',
    version: record.version,
    from: record.state,
    attempt,
    delay,
    error: message,
  };
  return {
    record: { ...clearStep(record), attempt, ...wakeAtAfter(delay, context), ...withEvent(record, event, context.now) },
    send: schedule({ id: record.id, version: record.version, attempt }, delay, context),
  };
}

/** Seconds to wait after failed attempt number `failedAttempt` (1-based), as Step Functions' Retry. */
export function backoffSeconds(retry: { backoffSeconds: number; backoffRate: number }, failedAttempt: number): number {
  return Math.min(Math.ceil(retry.backoffSeconds * retry.backoffRate ** (failedAttempt - 1)), MAX_DELAY_SECONDS);
}

/** A value of a per-state map (`catch`, `timeouts`): the state's own entry, else `*`'s. */
export function entryFor<T>(map: Record<string, T> | undefined, state: string): T | undefined {
  if (map === undefined) return undefined;
  if (Object.hasOwn(map, state)) return map[state];
  return Object.hasOwn(map, ANY_STATE) ? map[ANY_STATE] : undefined;
}

/**
 * Where a failure of the current state goes instead of FAILED: its own `catch` entry, else the
 * machine-wide `*` one, except for the `*` state itself (its failures would catch themselves).
 */
export function catchTarget(record: MachineRecord): string | undefined {
  const target = entryFor(record.catch, record.state);
  return target === record.state ? undefined : target;
}

/**
 * A step that failed for good: caught into another state when the definition says so, else
 * FAILED. `outcome` names the event when it is not a plain failure (a wait's: domain/callback.ts).
 */
export function failure(record: MachineRecord, error: string, context: StepContext, outcome?: HistoryOutcome): Commit {
  const target = catchTarget(record);
  return target === undefined ? fail(record, error, context, outcome) : caught(record, target, error, context, outcome);
}

function caught(
  record: MachineRecord,
  to: string,
  error: string,
  context: StepContext,
  outcome: HistoryOutcome = 'caught',
): Commit {
  const message = truncateError(error);
  const version = record.version + 1;
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome,
    version,
    from: record.state,
    to,
    attempt: record.attempt,
    error: message,
  };
  return {
    record: {
      ...leaveState(record),
      state: to,
      status: 'RUNNING',
      version,
      attempt: 1,
      caught: { message, state: record.state, attempt: record.attempt, at: new Date(context.now).toISOString() },
      ...withEvent(record, event, context.now),
    },
    send: schedule({ id: record.id, version, attempt: 1 }, 0, context),
  };
}

function fail(record: MachineRecord, error: string, context: StepContext, outcome: HistoryOutcome = 'failed'): Commit {
  const message = truncateError(error);
  const version = record.version + 1;
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome,
    version,
    from: record.state,
    attempt: record.attempt,
    error: message,
  };
  return {
    record: {
      ...leaveState(record),
      version,
      status: 'FAILED',
      error: { message, state: record.state, at: new Date(context.now).toISOString() },
      ...finished(record, context),
      ...withEvent(record, event, context.now),
    },
  };
}

function finish(record: MachineRecord, context: StepContext): Commit {
  const version = record.version + 1;
  const event: Omit<HistoryEvent, 'seq' | 'at'> = { outcome: 'succeeded', version, from: record.state };
  return {
    record: {
      ...leaveState(record),
      version,
      status: 'SUCCEEDED',
      ...finished(record, context),
      ...withEvent(record, event, context.now),
    },
  };
}

function finished(record: MachineRecord, context: StepContext): Pick<MachineRecord, 'finishedAt' | 'expiresAt'> {
  return {
    finishedAt: new Date(context.now).toISOString(),
    expiresAt: Math.floor(context.now / 1000) + record.options.retentionDays * 86_400,
  };
}

/**
 * The record without what belongs to the step attempt just completed, nor the events it held:
 * the commit executor, which writes or carries them, is the one to give a new record any.
 */
export function clearStep(record: MachineRecord): MachineRecord {
  const {
    lease: _lease,
    wakeAt: _wakeAt,
    woken: _woken,
    carrier: _carrier,
    wait: _wait,
    ...rest
  } = withoutPendingEvents(record);
  return rest;
}

function withoutPendingEvents(record: MachineRecord): MachineRecord {
  const { pendingEvents: _held, ...rest } = record;
  return rest;
}

/** The record without what belongs to the state just left (a retry stays in it, keeping `caught`). */
function leaveState(record: MachineRecord): MachineRecord {
  const { caught: _caught, ...rest } = clearStep(record);
  return rest;
}

function wakeAtAfter(delay: number, context: StepContext): Pick<MachineRecord, 'wakeAt'> {
  return delay > 0 ? { wakeAt: new Date(context.now + delay * 1000).toISOString() } : {};
}

function schedule(message: StepMessage, delay: number, context: StepContext): ScheduledStep {
  return { message, delaySeconds: Math.min(Math.max(delay, 0), context.maxQueueDelaySeconds) };
}

/** A PARKED machine woken by the resume API, optionally with new data or a new state. */
export function resume(
  record: MachineRecord,
  input: { object?: Json; state?: string },
  context: StepContext,
  by?: string,
): { record: MachineRecord; send: ScheduledStep } {
  if (record.status !== 'PARKED' || record.removing) {
    throw new ConflictError(`machine '${record.id}' is ${record.status}, not PARKED`, { status: record.status });
  }
  const { state, object } = restartAt(record, input, 'resume');
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome: 'resumed',
    version: record.version,
    from: record.state,
    to: state,
    ...byCaller(by),
  };
  const resumed: MachineRecord = {
    ...clearStep(record),
    state,
    object,
    status: 'RUNNING',
    attempt: 1,
    ...withEvent(record, event, context.now),
  };
  assertFits(resumed);
  return { record: resumed, send: schedule({ id: record.id, version: record.version, attempt: 1 }, 0, context) };
}

/** The new state and data of a resumed or redriven machine, checked as resume and redrive check them. */
function restartAt(
  record: MachineRecord,
  input: { object?: Json; state?: string },
  what: string,
): { state: string; object: Json } {
  if (input.state !== undefined && !Object.hasOwn(record.config, input.state)) {
    throw new ValidationError(`invalid ${what} request`, [
      { path: 'state', message: `state '${input.state}' is not a key of config` },
    ]);
  }
  const unstorable = input.object === undefined ? [] : storableIssues(input.object, 'object');
  if (unstorable.length > 0) throw new ValidationError(`invalid ${what} request`, unstorable);
  return { state: input.state ?? record.state, object: input.object === undefined ? record.object : input.object };
}

/**
 * A FAILED machine put back to RUNNING by the redrive API, at its failed state (or `input.state`),
 * with a fresh retry budget, as the next version: the redrive is a commit like a step's, moving
 * (version, attempt) forward, so no message of the failed step can act again. The machine is
 * alive again: it no longer expires.
 */
export function redrive(
  record: MachineRecord,
  input: { object?: Json; state?: string },
  context: StepContext,
  by?: string,
): { record: MachineRecord; send: ScheduledStep } {
  if (record.removing) throw beingRemoved(record);
  if (record.status !== 'FAILED') {
    throw new ConflictError(
      `machine '${record.id}' is ${record.status}, not FAILED: only a FAILED machine can be redriven`,
      {
        status: record.status,
      },
    );
  }
  const { state, object } = restartAt(record, input, 'redrive');
  const version = record.version + 1;
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome: 'redriven',
    version,
    from: record.state,
    to: state,
    ...(record.error ? { error: record.error.message } : {}),
    ...byCaller(by),
  };
  const { error: _error, finishedAt: _finishedAt, expiresAt: _expiresAt, ...alive }: MachineRecord = leaveState(record);
  const redriven: MachineRecord = {
    ...alive,
    state,
    object,
    status: 'RUNNING',
    version,
    attempt: 1,
    ...withEvent(record, event, context.now),
  };
  assertFits(redriven);
  return { record: redriven, send: schedule({ id: record.id, version, attempt: 1 }, 0, context) };
}

/**
 * Whether `record` waits for its current step's `wakeAt` with nobody on it: the only machines
 * the wake API wakes (its commit is conditioned on the record it read: docs/design.md#wake).
 */
export function isWaiting(record: MachineRecord, now: number): boolean {
  return (
    record.status === 'RUNNING' &&
    !record.removing &&
    !hasLiveLease(record, now) &&
    record.wakeAt !== undefined &&
    Date.parse(record.wakeAt) > now
  );
}

/**
 * The current step's message once more, for a RUNNING machine whose step has been due for more
 * than `graceMs` with nobody on it: its message may be lost (docs/design.md#lost-messages). A copy
 * of a message still on its way is harmless: one of them claims the step, the other finds it
 * leased or behind the record.
 */
export function overdueStep(record: MachineRecord, now: number, graceMs = 0): ScheduledStep | undefined {
  if (record.status !== 'RUNNING' || record.removing || hasLiveLease(record, now)) return undefined;
  if (dueAt(record) > now - graceMs) return undefined;
  return { message: stepOf(record), delaySeconds: 0 };
}

/** What a wake does: commit the woken step, or (its step is overdue) send its message again. */
export type Wake = { record: MachineRecord; send: ScheduledStep } | { resend: ScheduledStep };

/**
 * A RUNNING machine waiting on a delay (or a retry's backoff), made to run its current step
 * attempt now. The step keeps its version and attempt (no retry is used up) and counts one more
 * `woken`: the message the wait scheduled names the step as it was and is now stale, so exactly
 * one of the two runs it. A machine whose step is due with nobody on it gets that step's message
 * again instead, without a commit (`overdueStep`).
 */
export function wake(record: MachineRecord, context: StepContext, by?: string): Wake {
  if (record.removing) throw beingRemoved(record);
  if (record.status !== 'RUNNING') {
    throw new ConflictError(`machine '${record.id}' is ${record.status}, not RUNNING: it waits for no step`, {
      status: record.status,
    });
  }
  const resend = overdueStep(record, context.now);
  if (resend) return { resend };
  if (!isWaiting(record, context.now)) {
    throw new ConflictError(`machine '${record.id}' is RUNNING but not waiting on a delay: its step is running now`, {
      status: record.status,
      reason: 'running',
    });
  }
  const woken = (record.woken ?? 0) + 1;
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome: 'woken',
    version: record.version,
    from: record.state,
    attempt: record.attempt,
    ...byCaller(by),
  };
  const next: MachineRecord = { ...clearStep(record), woken, ...withEvent(record, event, context.now) };
  return { record: next, send: { message: stepOf(next), delaySeconds: 0 } };
}

const beingRemoved = (record: MachineRecord) =>
  new ConflictError(`machine '${record.id}' is being removed`, { status: record.status, removing: true });

/**
 * What the current state's handler is invoked with (docs/design.md#handler-contract), with the
 * step's `callbackToken` when the machine has one (domain/callbackToken.ts mints it).
 */
export function handlerInput(record: MachineRecord, callbackToken?: string): StateHandlerInput {
  const { id, state, object, config, version, attempt, caught } = record;
  const input: StateHandlerInput = { id, state, object, config, version, attempt };
  if (callbackToken !== undefined) input.callbackToken = callbackToken;
  if (caught) input.error = { message: caught.message, state: caught.state, attempt: caught.attempt };
  return input;
}

/** The current state's handler timeout in seconds, if the definition gives one. */
export function stateTimeoutSeconds(record: MachineRecord): number | undefined {
  return entryFor(record.timeouts, record.state);
}

/**
 * Delete of a machine: at once when no handler runs, otherwise marked `removing` and deleted
 * by the transition processor when the running step ends.
 */
export function requestRemoval(
  record: MachineRecord,
  now: number,
  by?: string,
): { action: 'delete' } | { action: 'pending' } | { action: 'mark'; record: MachineRecord } {
  if (!hasLiveLease(record, now)) return { action: 'delete' };
  if (record.removing) return { action: 'pending' };
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome: 'removal',
    version: record.version,
    from: record.state,
    ...byCaller(by),
  };
  return {
    action: 'mark',
    record: { ...withoutPendingEvents(record), removing: true, ...withEvent(record, event, now) },
  };
}

/**
 * A step message SQS gave up on (it failed `receives` times and went to the dead-letter queue).
 * Its machine would wait for it forever: if the message was still the current step of a
 * RUNNING machine, the machine fails, saying so; a machine being removed is deleted. Anything
 * else (a stale copy, a finished machine) needs nothing. While a handler holds the machine, the
 * answer waits ('later').
 */
export function deadLetter(
  record: MachineRecord | undefined,
  message: StepMessage,
  receives: number,
  context: StepContext,
): { action: 'ignore' } | { action: 'delete' } | { action: 'later' } | { action: 'fail'; record: MachineRecord } {
  if (!record) return { action: 'ignore' };
  // A copy of the step may be running right now: its commit settles the step, or fails it later.
  if (hasLiveLease(record, context.now)) return { action: 'later' };
  if (record.removing) return { action: 'delete' };
  // A park's deadline message (docs/design.md "Deadlines") dead-lettered: nothing would end the wait.
  const waiting = record.status === 'PARKED' && nextDeadline(record.wait) !== undefined;
  if ((record.status !== 'RUNNING' && !waiting) || orderOf(message, record) !== 0) return { action: 'ignore' };
  const reason = waiting
    ? `the deadline of the wait in step ${record.version} dead-lettered after ${receives} receives`
    : `step ${record.version} (attempt ${record.attempt}) dead-lettered after ${receives} receives`;
  return { action: 'fail', record: fail(clearStep(record), reason, context).record };
}
