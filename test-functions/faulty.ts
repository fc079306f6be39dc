import type { StateHandler } from '../domain/contract';

/**
 * Handlers that misbehave on purpose, for the fault suite. They read their instructions from the
 * machine's object so one deployment serves every test case.
 */
interface FaultyObject {
  /** flaky: fail the first N attempts of the step. */
  failTimes?: number;
  /** sleepy: milliseconds to sleep before answering. */
  sleepMs?: number;
  /** where to go next (default: finish). */
  next?: string;
  /** park: its `timeout` and `heartbeat` in seconds (docs/design.md "Deadlines"). */
  parkTimeout?: number;
  heartbeat?: number;
  /** park: writes its callbackToken into the object it parks with (tests and demos only: a token is a secret). */
  exposeToken?: boolean;
  [key: string]: unknown;
}

const next = (object: FaultyObject) => (object.next ? { state: object.next, object } : null);

export const flaky: StateHandler<FaultyObject> = async ({ object, attempt }) => {
  if (attempt <= (object.failTimes ?? 0)) throw new Error(`flaky failure on attempt ${attempt}`);
  return next(object);
};

export const alwaysFails: StateHandler<FaultyObject> = async ({ attempt }) => {
  throw new Error(`always fails (attempt ${attempt})`);
};

/** Returns something that is neither null nor `{ state }`. */
export const garbage = async () => ({ notAState: true, answer: 42 });

export const sleepy: StateHandler<FaultyObject> = async ({ object }) => {
  await new Promise((resolve) => setTimeout(resolve, object.sleepMs ?? 10_000));
  return next(object);
};

/**
 * Parks the machine (negative delay) in state `object.next` until the resume API or its callback
 * token wakes it, within `object.parkTimeout` and with `object.heartbeat` when given. With
 * `object.exposeToken` the token lands in `object.callbackToken`, where anyone who can read the
 * machine sees it: a demo's shortcut, never a real handler's (it would hand the token on instead).
 */
export const park: StateHandler<FaultyObject> = async ({ object, callbackToken }) => ({
  state: object.next ?? 'FINALIZE',
  object: object.exposeToken ? { ...object, callbackToken } : object,
  delay: -1,
  ...(object.parkTimeout === undefined ? {} : { timeout: object.parkTimeout }),
  ...(object.heartbeat === undefined ? {} : { heartbeat: object.heartbeat }),
});

/**
 * The benchmark's no-op step: counts `object.step` up to `object.steps`, then finishes.
 * `object.delay` seconds between steps (default 0).
 */
export const noop: StateHandler<{ step?: number; steps?: number; delay?: number }> = async ({ object, state }) => {
  const done = (object.step ?? 0) + 1;
  if (done >= (object.steps ?? 10)) return null;
  return { state, object: { ...object, step: done }, delay: object.delay ?? 0 };
};

/**
 * A state entered by a `catch`: keeps the failure it was handed (`error`) in `object.caught`
 * and goes on to `object.next` (default: finish).
 */
export const recover: StateHandler<FaultyObject> = async ({ object, error }) => {
  const recovered = { ...object, caught: error ?? null };
  return object.next ? { state: object.next, object: recovered } : null;
};

/**
 * Grows the machine a little each step, until its size limit stops it: adds `object.chunk`
 * (default 400) elements `[[[]]]` to `object.grow`. Nested lists weigh more as a DynamoDB map
 * (3 bytes a list, 1 an element) than as JSON, so the object passes DynamoDB's item size as a map
 * before its JSON reaches the machine's 256 KB: stored compressed, it must be kept until then, and
 * the machine fail with a size error past it, not be written.
 */
export const grow: StateHandler<{ grow?: unknown[]; chunk?: number; step?: number }> = async ({ object, state }) => {
  const chunk: unknown[] = Array.from({ length: object.chunk ?? 400 }, () => [[[]]]);
  return { state, object: { ...object, step: (object.step ?? 0) + 1, grow: [...(object.grow ?? []), ...chunk] } };
};

/**
 * Heavy work: keeps its CPU busy for `object.busyMs` milliseconds (default 3000), then goes to
 * `object.next` (default: finish), with a result of about `object.resultBytes` bytes if given
 * (over Lambda's 6 MB: a failed attempt). Locally it must not stall the other functions.
 */
export const heavy: StateHandler<FaultyObject & { busyMs?: number; resultBytes?: number }> = async ({ object }) => {
  const until = Date.now() + (object.busyMs ?? 3000);
  while (Date.now() < until);
  if (object.resultBytes) return { state: object.next ?? 'DONE', object: { blob: 'x'.repeat(object.resultBytes) } };
  return next(object);
};
