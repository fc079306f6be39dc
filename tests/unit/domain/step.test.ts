import { expect } from 'chai';
import { byteLength } from '../../../domain/definition';
import { ConflictError, ValidationError } from '../../../domain/errors';
import { DEFER_SECONDS, MAX_DELAY_SECONDS, MAX_MACHINE_BYTES, MAX_RECORD_BYTES } from '../../../domain/limits';
import { type MachineRecord, oversize, storedRecordBytes } from '../../../domain/machine';
import { backoffSeconds, decide, type HandlerOutcome, requestRemoval, resume, step } from '../../../domain/step';
import { itemSize } from '../../../domain/storable';
import { contextAt, machine, T0 } from '../../helpers/factories';

const leased = (overrides: Partial<MachineRecord> = {}) =>
  machine({ lease: { token: 'tok', until: T0 + 60_000 }, ...overrides });
const returned = (payload: unknown): HandlerOutcome => ({ kind: 'returned', payload });
const thrown = (message = 'boom', retryable = true): HandlerOutcome => ({ kind: 'failed', message, retryable });
const current = { id: 'm-1', version: 0, attempt: 1 };

describe('decide', () => {
  const context = contextAt(T0);

  it('drops a message for a machine that does not exist', () => {
    expect(decide(undefined, current, context)).to.deep.equal({ action: 'drop', reason: 'missing' });
  });

  it('deletes a machine marked removing when no handler runs', () => {
    expect(decide(machine({ removing: true }), current, context)).to.deep.equal({ action: 'delete' });
  });

  it('comes back when the lease ends for a removing machine whose handler still runs', () => {
    expect(decide(leased({ removing: true }), current, context)).to.deep.equal({
      action: 'defer',
      delaySeconds: 60,
      reason: 'leased',
    });
  });

  it('runs the current step', () => {
    expect(decide(machine(), current, context)).to.deep.equal({ action: 'run' });
  });

  it("runs the step a record names the message as carrier of (a step run on to), and nothing else's", () => {
    const ranOn = machine({ version: 3, seq: 3, carrier: { version: 0, attempt: 1 } });
    expect(decide(ranOn, current, context)).to.deep.equal({ action: 'run' });
    expect(decide(ranOn, { id: 'm-1', version: 3, attempt: 1 }, context)).to.deep.equal({ action: 'run' });
    expect(decide(ranOn, { id: 'm-1', version: 2, attempt: 1 }, context).action).to.equal('drop');
    expect(decide(ranOn, { ...current, woken: 1 }, context).action).to.equal('drop');
    expect(decide({ ...ranOn, lease: { token: 't', until: T0 + 5_000 } }, current, context)).to.deep.equal({
      action: 'defer',
      delaySeconds: 5,
      reason: 'leased',
    });
  });

  it('drops an older version or attempt as a stale duplicate', () => {
    const record = machine({ version: 3, attempt: 2 });
    expect(decide(record, { id: 'm-1', version: 2, attempt: 5 }, context).action).to.equal('drop');
    expect(decide(record, { id: 'm-1', version: 3, attempt: 1 }, context)).to.deep.equal({
      action: 'drop',
      reason: 'stale',
    });
  });

  it('holds a duplicate of a running step back until the lease ends, in case the holder died', () => {
    expect(decide(leased(), current, context)).to.deep.equal({ action: 'defer', delaySeconds: 60, reason: 'leased' });
    expect(decide(leased(), current, contextAt(T0 + 59_500))).to.deep.include({ delaySeconds: 1 });
    expect(decide(machine({ lease: { token: 't', until: T0 + 3600_000 } }), current, context)).to.deep.include({
      action: 'defer',
      delaySeconds: 900,
    });
  });

  it('defers a message that overtook the commit it was sent before', () => {
    expect(decide(leased(), { id: 'm-1', version: 1, attempt: 1 }, context)).to.deep.equal({
      action: 'defer',
      delaySeconds: DEFER_SECONDS,
      reason: 'early',
    });
    expect(decide(leased(), { id: 'm-1', version: 0, attempt: 2 }, context)).to.deep.equal({
      action: 'defer',
      delaySeconds: DEFER_SECONDS,
      reason: 'early',
    });
  });

  it('orders steps by version first, then by attempt', () => {
    const record = leased({ version: 3, attempt: 2 });
    expect(decide(record, { id: 'm-1', version: 4, attempt: 1 }, context)).to.deep.include({ reason: 'early' });
    expect(decide(record, { id: 'm-1', version: 2, attempt: 3 }, context)).to.deep.equal({
      action: 'drop',
      reason: 'stale',
    });
  });

  it('defers the message of a resume whose commit is pending', () => {
    expect(decide(leased({ status: 'PARKED' }), current, context)).to.deep.equal({
      action: 'defer',
      delaySeconds: DEFER_SECONDS,
      reason: 'early',
    });
  });

  it('drops an older message for a parked machine, even while its resume is being committed', () => {
    const parked = leased({ status: 'PARKED', version: 2 });
    expect(decide(parked, { id: 'm-1', version: 1, attempt: 1 }, context)).to.deep.equal({
      action: 'drop',
      reason: 'stale',
    });
  });

  it('drops an early message when the lease that sent it has expired', () => {
    const expired = machine({ lease: { token: 'tok', until: T0 - 1 } });
    expect(decide(expired, { id: 'm-1', version: 1, attempt: 1 }, context)).to.deep.equal({
      action: 'drop',
      reason: 'stale',
    });
  });

  it('drops messages for finished or parked machines', () => {
    for (const status of ['SUCCEEDED', 'FAILED', 'PARKED'] as const) {
      expect(decide(machine({ status }), current, context), status).to.deep.equal({ action: 'drop', reason: 'stale' });
    }
  });

  it('re-sends with the capped remaining delay while wakeAt is in the future', () => {
    const record = machine({ wakeAt: new Date(T0 + 3600_000).toISOString() });
    expect(decide(record, current, context)).to.deep.equal({ action: 'wait', delaySeconds: 900 });
    expect(decide(record, current, contextAt(T0 + 3590_000))).to.deep.equal({ action: 'wait', delaySeconds: 10 });
    expect(decide(record, current, contextAt(T0 + 3600_000 - 500))).to.deep.equal({ action: 'wait', delaySeconds: 1 });
  });

  it('runs once wakeAt has come (or is less than a second away)', () => {
    const record = machine({ wakeAt: new Date(T0 + 1000).toISOString() });
    expect(decide(record, current, contextAt(T0 + 1000)).action).to.equal('run');
  });
});

describe('step', () => {
  const context = contextAt(T0 + 5000);

  it('moves to the returned state, replaces the object and schedules the next step', () => {
    const { record, send } = step(leased({ attempt: 2 }), returned({ state: 'TASK-1', object: { done: 1 } }), context);
    expect(record).to.include({ state: 'TASK-1', status: 'RUNNING', version: 1, attempt: 1, seq: 1 });
    expect(record.object).to.deep.equal({ done: 1 });
    expect(record.lease).to.equal(undefined);
    expect(record.updatedAt).to.equal(new Date(T0 + 5000).toISOString());
    expect(record.lastEvent).to.deep.equal({
      seq: 1,
      at: new Date(T0 + 5000).toISOString(),
      outcome: 'transition',
      version: 1,
      from: 'START',
      to: 'TASK-1',
      delay: 0,
    });
    expect(send).to.deep.equal({ message: { id: 'm-1', version: 1, attempt: 1 }, delaySeconds: 0 });
  });

  it('keeps the object when the result has none', () => {
    expect(step(leased(), returned({ state: 'TASK-1' }), context).record.object).to.deep.equal({ orderId: 42 });
  });

  it('sets wakeAt and caps the queue delay for long delays', () => {
    const { record, send } = step(leased(), returned({ state: 'TASK-1', delay: 7200 }), context);
    expect(record.wakeAt).to.equal(new Date(T0 + 5000 + 7200_000).toISOString());
    expect(send?.delaySeconds).to.equal(900);
  });

  it('uses the configured queue delay cap', () => {
    expect(step(leased(), returned({ state: 'TASK-1', delay: 7 }), contextAt(T0, 3)).send?.delaySeconds).to.equal(3);
  });

  it('parks the machine on a negative delay and sends nothing', () => {
    const { record, send } = step(leased(), returned({ state: 'TASK-1', delay: -1 }), context);
    expect(record).to.include({ status: 'PARKED', state: 'TASK-1', version: 1, attempt: 1 });
    expect(record).not.to.have.any.keys('lease', 'wakeAt');
    expect(record.lastEvent).to.deep.equal({
      seq: 1,
      at: new Date(T0 + 5000).toISOString(),
      outcome: 'parked',
      version: 1,
      from: 'START',
      to: 'TASK-1',
    });
    expect(send).to.equal(undefined);
  });

  it('drops the carrier of the step it leaves: every commit is made with a message or names its own', () => {
    const ranOn = machine({ carrier: { version: 0, attempt: 1 } });
    for (const outcome of [returned({ state: 'TASK-1' }), returned(null), thrown(), thrown('no', false)]) {
      expect(step(ranOn, outcome, context).record.carrier).to.equal(undefined);
    }
  });

  it('moves on at once, without wakeAt, on a zero delay', () => {
    const { record, send } = step(
      leased({ wakeAt: new Date(T0).toISOString() }),
      returned({ state: 'TASK-1', delay: 0 }),
      context,
    );
    expect(record).to.include({ status: 'RUNNING', state: 'TASK-1' });
    expect(record).not.to.have.any.keys('lease', 'wakeAt');
    expect(send?.delaySeconds).to.equal(0);
  });

  it('finishes as SUCCEEDED on null, with finishedAt and expiresAt after retentionDays', () => {
    const { record, send } = step(leased(), returned(null), contextAt(T0 + 5999));
    expect(record).to.include({ status: 'SUCCEEDED', version: 1, finishedAt: new Date(T0 + 5999).toISOString() });
    expect(record).not.to.have.any.keys('lease', 'wakeAt', 'error');
    expect(record.expiresAt).to.equal((T0 + 5000) / 1000 + 7 * 86_400);
    expect(record.lastEvent).to.deep.equal({
      seq: 1,
      at: new Date(T0 + 5999).toISOString(),
      outcome: 'succeeded',
      version: 1,
      from: 'START',
    });
    expect(send).to.equal(undefined);
  });

  it('fails on state ERROR with the message the handler gave', () => {
    const { record } = step(leased(), returned({ state: 'ERROR', error: 'card declined' }), context);
    expect(record.status).to.equal('FAILED');
    expect(record.error).to.deep.equal({
      message: 'card declined',
      state: 'START',
      at: new Date(T0 + 5000).toISOString(),
    });
  });

  it('prefers error to message on state ERROR, skipping null, and keeps the object returned with it', () => {
    const both = step(leased(), returned({ state: 'ERROR', error: 'first', message: 'second' }), context).record;
    expect(both.error?.message).to.equal('first');
    const nullError = returned({ state: 'ERROR', error: null, message: 'the message', object: { partial: true } });
    const { record } = step(leased(), nullError, context);
    expect(record.error?.message).to.equal('the message');
    expect(record.object).to.deep.equal({ partial: true });
  });

  it('fails on state ERROR with a structured or missing message', () => {
    expect(step(leased(), returned({ state: 'ERROR', message: { code: 7 } }), context).record.error?.message).to.equal(
      '{"code":7}',
    );
    expect(step(leased(), returned({ state: 'ERROR' }), context).record.error?.message).to.equal(
      'handler returned state ERROR',
    );
  });

  it('fails on a state that is not in config, keeping the object returned with it', () => {
    const { record, send } = step(leased(), returned({ state: 'MARS', object: { landed: false } }), context);
    expect(record).to.include({ status: 'FAILED', state: 'START' });
    expect(record.object).to.deep.equal({ landed: false });
    expect(record.error?.message).to.equal("handler returned state 'MARS', which is not in config");
    expect(send).to.equal(undefined);
  });

  it('does not take an inherited property for a state of config', () => {
    expect(step(leased(), returned({ state: 'toString' }), context).record.error?.message).to.equal(
      "handler returned state 'toString', which is not in config",
    );
  });

  it('fails at once, without retry, on a malformed result', () => {
    for (const payload of [
      { notAState: 1 },
      'text',
      { state: 'TASK-1', delay: 1.5 },
      { state: 'TASK-1', delay: MAX_DELAY_SECONDS + 1 },
    ]) {
      const { record } = step(leased(), returned(payload), context);
      expect(record.status, JSON.stringify(payload)).to.equal('FAILED');
      expect(record.error?.message).to.match(/^malformed handler result/);
      expect(record.attempt).to.equal(1);
    }
  });

  it('fails, keeping its last data, when the returned object is over 256 KiB of JSON', () => {
    const { record } = step(leased(), returned({ state: 'TASK-1', object: 'x'.repeat(300 * 1024) }), context);
    expect(record.status).to.equal('FAILED');
    expect(record.object).to.deep.equal(leased().object);
    expect(record.error?.message).to.match(
      /^handler result too large: the machine's object and config take 30\d{4} bytes of JSON; the limit is 262144$/,
    );
  });

  it('keeps an object small as JSON but over 400 KB as a DynamoDB map: it is stored as compressed JSON', () => {
    // Lists of lists: 7 bytes of JSON per `[[[]]],`, 12 bytes as a map (3 per list, 1 per element).
    const object = { lists: Array.from({ length: 35_000 }, () => [[[]]]) };
    expect(JSON.stringify(object).length).to.be.lessThan(256 * 1024);
    expect(itemSize({ object })).to.be.greaterThan(MAX_RECORD_BYTES);
    const { record } = step(leased(), returned({ state: 'TASK-1', object }), context);
    expect(record.status).to.equal('RUNNING');
    expect(storedRecordBytes(record)).to.be.below(JSON.stringify(object).length + 2048);
  });

  it('refuses a record that would take more than MAX_RECORD_BYTES as stored, whatever makes it so', () => {
    // Not reachable through the API (names and errors are bounded): the guard stays for what is.
    const error = oversize({ ...leased(), name: 'n'.repeat(MAX_RECORD_BYTES) });
    expect(error?.message).to.match(/as DynamoDB stores it; the limit is 401408$/);
    expect(oversize({ ...leased(), name: 'n'.repeat(MAX_RECORD_BYTES - 2048) })).to.equal(undefined);
  });

  it('fails, without retrying, a result DynamoDB could not store', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    for (const [object, why] of [
      [deep, `result.object${'.0'.repeat(32)} is nested more than 32 levels deep`],
      [{ n: 2 ** 60 }, 'result.object.n number 1152921504606847000 is beyond'],
      [{ n: 1e-200 }, 'result.object.n number 1e-200 is closer to 0 than DynamoDB stores'],
      [JSON.parse('{"__proto__": 1}'), 'result.object.__proto__ is not a key that can be stored'],
      [{ text: '\ud800' }, 'result.object.text has a lone UTF-16 surrogate'],
    ] as const) {
      const { record, send } = step(leased(), returned({ state: 'TASK-1', object }), context);
      expect(record.status).to.equal('FAILED');
      expect(send).to.equal(undefined);
      expect(record.error?.message).to.include(`malformed handler result: ${why}`);
    }
  });

  it('keeps at most 1000 characters of an error, in the record and in its event', () => {
    const failed = step(leased({ attempt: 3 }), thrown('e'.repeat(5000)), context).record;
    expect(failed.error?.message).to.have.length(1000);
    expect(failed.error?.message.endsWith('…')).to.equal(true);
    expect(failed.lastEvent.error).to.equal(failed.error?.message);
    const retried = step(leased(), thrown('r'.repeat(1001)), context).record;
    expect(retried.lastEvent.error).to.have.length(1000);
    expect(step(leased(), thrown('r'.repeat(1000)), context).record.lastEvent.error).to.equal('r'.repeat(1000));
  });

  it('says what is wrong with each field of a malformed result', () => {
    const message = (payload: unknown) => step(leased(), returned(payload), context).record.error?.message;
    for (const [payload, why] of [
      [{ notAState: true }, 'result.state is missing (the next state)'],
      [{ state: 123 }, 'result.state must be a string (the next state)'],
      [{ state: '' }, 'result.state Too small: expected string to have >=1 characters'],
      [{ state: 'TASK-1', delay: '5' }, 'result.delay must be a whole number of seconds'],
      [{ state: 'TASK-1', delay: 1.5 }, 'result.delay must be a whole number of seconds'],
      [
        { state: 'TASK-1', delay: MAX_DELAY_SECONDS + 1 },
        `result.delay must be at most ${MAX_DELAY_SECONDS} seconds (one year)`,
      ],
      ['text', 'result must be null (finished) or an object with the next state'],
      [[{ state: 'TASK-1' }], 'result must be null (finished) or an object with the next state'],
      [{ delay: 1.5 }, 'result.state is missing (the next state); result.delay must be a whole number of seconds'],
    ] as const) {
      expect(message(payload), JSON.stringify(payload)).to.equal(`malformed handler result: ${why}`);
    }
  });

  it('accepts the longest delay', () => {
    const { record, send } = step(leased(), returned({ state: 'TASK-1', delay: MAX_DELAY_SECONDS }), context);
    expect(record.wakeAt).to.equal(new Date(T0 + 5000 + MAX_DELAY_SECONDS * 1000).toISOString());
    expect(send?.delaySeconds).to.equal(900);
  });

  describe('size limit of object and config together', () => {
    const configBytes = byteLength(machine().config);
    // A string object whose JSON makes the record exactly `bytes` long with the config.
    const objectOfSize = (bytes: number) => 'x'.repeat(bytes - configBytes - 2);

    it('accepts an object that brings the machine to exactly MAX_MACHINE_BYTES', () => {
      const object = objectOfSize(MAX_MACHINE_BYTES);
      expect(byteLength(object) + configBytes).to.equal(MAX_MACHINE_BYTES);
      const { record } = step(leased(), returned({ state: 'TASK-1', object }), context);
      expect(record).to.include({ status: 'RUNNING', object });
    });

    it('fails, keeping the previous object, one byte past it', () => {
      const { record, send } = step(
        leased(),
        returned({ state: 'TASK-1', object: objectOfSize(MAX_MACHINE_BYTES + 1) }),
        context,
      );
      expect(record).to.include({ status: 'FAILED', state: 'START', version: 1 });
      expect(record.object).to.deep.equal({ orderId: 42 });
      expect(record.error?.message).to.equal(
        `handler result too large: the machine's object and config take ${MAX_MACHINE_BYTES + 1} bytes of JSON; the limit is ${MAX_MACHINE_BYTES}`,
      );
      expect(send).to.equal(undefined);
    });
  });

  it('retries a failed attempt with exponential backoff, keeping the version', () => {
    const first = step(leased(), thrown('boom'), context);
    expect(first.record).to.include({ status: 'RUNNING', version: 0, attempt: 2, seq: 1 });
    expect(first.record.lease).to.equal(undefined);
    expect(first.record.lastEvent).to.deep.equal({
      seq: 1,
      at: new Date(T0 + 5000).toISOString(),
      outcome: 'retry',
      version: 0,
      from: 'START',
      attempt: 2,
      delay: 1,
      error: 'boom',
    });
    expect(first.send).to.deep.equal({ message: { id: 'm-1', version: 0, attempt: 2 }, delaySeconds: 1 });
    const second = step(leased({ attempt: 2 }), thrown('boom'), context);
    expect(second.send).to.deep.equal({ message: { id: 'm-1', version: 0, attempt: 3 }, delaySeconds: 2 });
    expect(second.record.wakeAt).to.equal(new Date(T0 + 5000 + 2000).toISOString());
  });

  it('retries at once when the backoff is zero', () => {
    const record = leased({
      options: { retry: { maxAttempts: 2, backoffSeconds: 0, backoffRate: 2 }, retentionDays: 1 },
    });
    const { record: next, send } = step(record, thrown(), context);
    expect(send?.delaySeconds).to.equal(0);
    expect(next.wakeAt).to.equal(undefined);
  });

  it('fails with the last error after maxAttempts', () => {
    const { record, send } = step(leased({ attempt: 3 }), thrown('still broken'), context);
    expect(record).to.include({ status: 'FAILED', version: 1, attempt: 3 });
    expect(record).not.to.have.any.keys('lease', 'wakeAt');
    expect(record.error).to.deep.equal({
      message: 'still broken',
      state: 'START',
      at: new Date(T0 + 5000).toISOString(),
    });
    expect(record.finishedAt).to.equal(new Date(T0 + 5000).toISOString());
    expect(record.expiresAt).to.equal((T0 + 5000) / 1000 + 7 * 86_400);
    expect(record.lastEvent).to.deep.equal({
      seq: 1,
      at: new Date(T0 + 5000).toISOString(),
      outcome: 'failed',
      version: 1,
      from: 'START',
      attempt: 3,
      error: 'still broken',
    });
    expect(send).to.equal(undefined);
  });

  it('retries up to the last attempt maxAttempts allows', () => {
    expect(step(leased({ attempt: 2 }), thrown(), context).record).to.include({ status: 'RUNNING', attempt: 3 });
  });

  it('does not retry a failure that is not retryable', () => {
    expect(step(leased(), thrown('not allowed', false), context).record).to.include({
      status: 'FAILED',
      attempt: 1,
    });
    expect(step(leased({ attempt: 3 }), thrown('not allowed', false), context).record.status).to.equal('FAILED');
  });
});

describe('backoffSeconds', () => {
  it('grows by backoffRate per failed attempt, rounded up to whole seconds', () => {
    const retry = { backoffSeconds: 1.5, backoffRate: 2 };
    expect([1, 2, 3].map((n) => backoffSeconds(retry, n))).to.deep.equal([2, 3, 6]);
  });

  it('never exceeds the longest delay', () => {
    expect(backoffSeconds({ backoffSeconds: 86_400, backoffRate: 10 }, 10)).to.equal(MAX_DELAY_SECONDS);
  });
});

describe('resume', () => {
  const parked = machine({ status: 'PARKED', version: 2, state: 'TASK-1', lease: { token: 't', until: T0 } });

  it('wakes a parked machine in its state, with its object and a message for the same version', () => {
    const { record, send } = resume(parked, {}, contextAt(T0));
    expect(record).to.include({ status: 'RUNNING', state: 'TASK-1', attempt: 1, version: 2 });
    expect(record.object).to.deep.equal({ orderId: 42 });
    expect(record.lease).to.equal(undefined);
    expect(record.lastEvent).to.deep.equal({
      seq: 1,
      at: new Date(T0).toISOString(),
      outcome: 'resumed',
      version: 2,
      from: 'TASK-1',
      to: 'TASK-1',
    });
    expect(send).to.deep.equal({ message: { id: 'm-1', version: 2, attempt: 1 }, delaySeconds: 0 });
  });

  it('can replace the object and the state', () => {
    const { record } = resume(parked, { state: 'FINALIZE', object: { approved: true } }, contextAt(T0));
    expect(record.state).to.equal('FINALIZE');
    expect(record.object).to.deep.equal({ approved: true });
  });

  it('refuses a machine that is not parked, or is being removed (409)', () => {
    const conflict = (record: MachineRecord) => {
      try {
        resume(record, {}, contextAt(T0));
      } catch (error) {
        expect(error).to.be.instanceOf(ConflictError);
        return { message: (error as ConflictError).message, details: (error as ConflictError).details };
      }
      expect.fail('expected a ConflictError');
    };
    expect(conflict(machine())).to.deep.equal({
      message: "machine 'm-1' is RUNNING, not PARKED",
      details: { status: 'RUNNING' },
    });
    expect(conflict({ ...parked, removing: true })).to.deep.equal({
      message: "machine 'm-1' is PARKED, not PARKED",
      details: { status: 'PARKED' },
    });
  });

  it('refuses a state outside config, naming the field (400)', () => {
    for (const state of ['NOPE', 'toString']) {
      try {
        resume(parked, { state }, contextAt(T0));
        expect.fail('expected a ValidationError');
      } catch (error) {
        expect(error).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).message).to.equal('invalid resume request');
        expect((error as ValidationError).details).to.deep.equal([
          { path: 'state', message: `state '${state}' is not a key of config` },
        ]);
      }
    }
  });
});

describe('requestRemoval', () => {
  it('deletes at once when no handler runs', () => {
    expect(requestRemoval(machine(), T0)).to.deep.equal({ action: 'delete' });
    expect(requestRemoval(machine({ removing: true }), T0)).to.deep.equal({ action: 'delete' });
  });

  it('marks the machine removing while a handler runs', () => {
    const removal = requestRemoval(leased(), T0);
    expect(removal.action).to.equal('mark');
    if (removal.action === 'mark') {
      expect(removal.record).to.include({ removing: true, seq: 1, state: 'START' });
      expect(removal.record.lease).to.deep.equal({ token: 'tok', until: T0 + 60_000 });
      expect(removal.record.lastEvent).to.deep.equal({
        seq: 1,
        at: new Date(T0).toISOString(),
        outcome: 'removal',
        version: 0,
        from: 'START',
      });
    }
  });

  it('reports a removal already pending', () => {
    expect(requestRemoval(leased({ removing: true }), T0)).to.deep.equal({ action: 'pending' });
  });
});
