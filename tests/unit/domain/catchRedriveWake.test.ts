import { expect } from 'chai';
import { maxStateTimeoutSeconds, parseMachineDefinition } from '../../../domain/definition';
import { mermaidDiagram } from '../../../domain/diagram';
import { ConflictError, ValidationError } from '../../../domain/errors';
import { parseListQuery } from '../../../domain/listing';
import { compareSteps, createMachine, type MachineRecord, stepOf } from '../../../domain/machine';
import {
  catchTarget,
  deadLetter,
  decide,
  entryFor,
  handlerInput,
  isWaiting,
  overdueStep,
  redrive,
  stateTimeoutSeconds,
  step,
  wake,
} from '../../../domain/step';
import { contextAt, machine, scope, T0 } from '../../helpers/factories';

const ctx = contextAt(T0);
const failed = (error: string): { kind: 'failed'; message: string; retryable: boolean } => ({
  kind: 'failed',
  message: error,
  retryable: true,
});

/** The error a call throws, or undefined. */
function thrown(call: () => unknown): Error | undefined {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

function issues(input: unknown, bounds?: { leaseSeconds: number }) {
  const error = thrown(() => parseMachineDefinition(input, scope, bounds));
  expect(error).to.be.instanceOf(ValidationError);
  return (error as ValidationError).details;
}

const base = { state: 'START', config: { START: 'prepare', 'TASK-1': 'task-1', FIX: 'finalize' } };

describe('catch and timeouts in a definition', () => {
  it('accepts per-state and machine-wide entries and stores them in the record', () => {
    const parsed = parseMachineDefinition(
      { ...base, catch: { 'TASK-1': 'FIX', '*': 'FIX' }, timeouts: { 'TASK-1': 30, '*': 5 } },
      scope,
    );
    const { record } = createMachine(parsed, { id: 'm', now: T0 });
    expect(record.catch).to.deep.equal({ 'TASK-1': 'FIX', '*': 'FIX' });
    expect(record.timeouts).to.deep.equal({ 'TASK-1': 30, '*': 5 });
  });

  it('leaves them out of the record, and so out of the fingerprint, when not given', () => {
    const { record } = createMachine(parseMachineDefinition(base, scope), { id: 'm', now: T0 });
    expect(record).not.to.have.property('catch');
    expect(record).not.to.have.property('timeouts');
    // No defaults: a definition without them keeps the fingerprint it had before they existed.
    expect(parseMachineDefinition(base, scope)).to.have.all.keys('state', 'config', 'object', 'options');
  });

  it('refuses a catch target not in config, naming the path', () => {
    expect(issues({ ...base, catch: { 'TASK-1': 'NOWHERE' } })).to.deep.equal([
      { path: 'catch.TASK-1', message: "catch state 'NOWHERE' is not a key of config" },
    ]);
  });

  it('refuses a catch or timeouts key that is neither * nor a state', () => {
    expect(issues({ ...base, catch: { TYPO: 'FIX' }, timeouts: { OTHER: 3 } })).to.deep.equal([
      { path: 'catch.TYPO', message: "'TYPO' is neither a key of config nor '*'" },
      { path: 'timeouts.OTHER', message: "'OTHER' is neither a key of config nor '*'" },
    ]);
  });

  it('refuses a state catching its own failures', () => {
    expect(issues({ ...base, catch: { FIX: 'FIX' } })[0]?.path).to.equal('catch.FIX');
  });

  it('refuses timeouts that are not whole seconds from 1', () => {
    expect(issues({ ...base, timeouts: { START: 0 } })[0]?.path).to.equal('timeouts.START');
    expect(issues({ ...base, timeouts: { START: 1.5 } })[0]?.path).to.equal('timeouts.START');
    expect(issues({ ...base, timeouts: { START: 901 } })[0]?.path).to.equal('timeouts.START');
  });

  it('refuses a timeout longer than the invoke share of the lease, saying which bound and why', () => {
    expect(maxStateTimeoutSeconds({ leaseSeconds: 70 })).to.equal(56);
    expect(parseMachineDefinition({ ...base, timeouts: { START: 56 } }, scope).timeouts).to.deep.equal({ START: 56 });
    expect(issues({ ...base, timeouts: { START: 57 } })).to.deep.equal([
      {
        path: 'timeouts.START',
        message:
          "57 s is longer than this deployment can wait for a handler: at most 56 s, the transition processor's invoke share (0.8) of its 70 s lease on a step",
      },
    ]);
    expect(issues({ ...base, timeouts: { '*': 3 } }, { leaseSeconds: 3 })[0]?.message).to.match(/at most 2 s/);
  });

  it('reports a timeout beyond the bound together with functions off the allow-list', () => {
    const paths = issues({
      ...base,
      config: { ...base.config, FIX: 'arn:aws:lambda:us-east-1:111111111111:function:x' },
      timeouts: { START: 60 },
    }).map((issue) => issue.path);
    expect(paths).to.deep.equal(['config.FIX', 'timeouts.START']);
  });

  it('finds a state own entry first, then *, never an inherited property', () => {
    expect(entryFor({ A: 1, '*': 2 }, 'A')).to.equal(1);
    expect(entryFor({ A: 1, '*': 2 }, 'B')).to.equal(2);
    expect(entryFor({ A: 1 }, 'constructor')).to.equal(undefined);
    expect(entryFor(undefined, 'A')).to.equal(undefined);
    expect(stateTimeoutSeconds(machine({ timeouts: { START: 4 } }))).to.equal(4);
    expect(stateTimeoutSeconds(machine())).to.equal(undefined);
  });
});

describe('catch', () => {
  const catching = (overrides: Partial<MachineRecord> = {}) =>
    machine({ state: 'TASK-1', version: 3, seq: 3, attempt: 3, catch: { 'TASK-1': 'FINALIZE' }, ...overrides });

  it('sends a failure whose retries are spent to the catching state, as the next version', () => {
    const commit = step(catching(), failed('boom'), ctx);
    expect(commit.record).to.include({ state: 'FINALIZE', status: 'RUNNING', version: 4, attempt: 1, seq: 4 });
    expect(commit.record.caught).to.deep.equal({
      message: 'boom',
      state: 'TASK-1',
      attempt: 3,
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(commit.record.lastEvent).to.deep.include({
      outcome: 'caught',
      version: 4,
      from: 'TASK-1',
      to: 'FINALIZE',
      attempt: 3,
      error: 'boom',
    });
    expect(commit.record).not.to.have.property('error');
    expect(commit.record).not.to.have.property('finishedAt');
    expect(commit.send).to.deep.equal({ message: { id: 'm-1', version: 4, attempt: 1 }, delaySeconds: 0 });
  });

  it('retries first, while attempts are left', () => {
    expect(step(catching({ attempt: 1 }), failed('boom'), ctx).record.lastEvent.outcome).to.equal('retry');
  });

  it('catches every failure of a step: ERROR (with its object), unknown states, malformed and non-retryable results', () => {
    const error = step(
      catching(),
      { kind: 'returned', payload: { state: 'ERROR', error: 'no', object: { x: 1 } } },
      ctx,
    );
    expect(error.record).to.deep.include({ state: 'FINALIZE', object: { x: 1 } });
    expect(error.record.caught?.message).to.equal('no');
    const unknown = step(catching(), { kind: 'returned', payload: { state: 'ELSEWHERE' } }, ctx);
    expect(unknown.record.caught?.message).to.match(/which is not in config/);
    const malformed = step(catching(), { kind: 'returned', payload: 7 }, ctx);
    expect(malformed.record.caught?.message).to.match(/^malformed handler result/);
    const unstorable = step(catching(), { kind: 'returned', payload: { state: 'X', object: { n: Number.NaN } } }, ctx);
    expect(unstorable.record.caught?.message).to.match(/^malformed handler result/);
    const refused = step(catching({ attempt: 1 }), { kind: 'failed', message: 'not allowed', retryable: false }, ctx);
    expect(refused.record.state).to.equal('FINALIZE');
    const huge = step(catching(), { kind: 'returned', payload: { state: 'START', object: 'x'.repeat(300_000) } }, ctx);
    expect(huge.record.caught?.message).to.match(/^handler result too large/);
    expect(huge.record.object).to.deep.equal(catching().object);
  });

  it('uses * for states without an entry, but never for the * state itself', () => {
    const wide = { catch: { '*': 'FINALIZE' } };
    expect(catchTarget(machine({ ...wide, state: 'START' }))).to.equal('FINALIZE');
    expect(catchTarget(machine({ ...wide, state: 'FINALIZE' }))).to.equal(undefined);
    expect(step(machine({ ...wide, state: 'FINALIZE', attempt: 3 }), failed('x'), ctx).record.status).to.equal(
      'FAILED',
    );
    expect(catchTarget(machine({ catch: { START: 'TASK-1', '*': 'FINALIZE' } }))).to.equal('TASK-1');
    expect(catchTarget(machine())).to.equal(undefined);
  });

  it('hands the caught failure to the catching state, through its retries, and forgets it on leaving', () => {
    const entered = step(catching(), failed('boom'), ctx).record;
    expect(handlerInput(entered)).to.deep.include({
      state: 'FINALIZE',
      version: 4,
      attempt: 1,
      error: { message: 'boom', state: 'TASK-1', attempt: 3 },
    });
    const retried = step(entered, failed('again'), ctx).record;
    expect(handlerInput(retried).error?.message).to.equal('boom');
    const left = step(retried, { kind: 'returned', payload: { state: 'START' } }, ctx).record;
    expect(left).not.to.have.property('caught');
    expect(handlerInput(left)).not.to.have.property('error');
    expect(handlerInput(machine())).to.deep.equal({
      id: 'm-1',
      state: 'START',
      object: { orderId: 42 },
      config: machine().config,
      version: 0,
      attempt: 1,
    });
  });

  it('fails the machine when the dead-lettered message carried its current step, naming that step', () => {
    const ranOn = machine({ state: 'TASK-1', version: 4, seq: 4, carrier: { version: 1, attempt: 1 } });
    const outcome = deadLetter(ranOn, { id: 'm-1', version: 1, attempt: 1 }, 5, ctx);
    expect(outcome.action).to.equal('fail');
    expect(outcome.action === 'fail' && outcome.record.error?.message).to.equal(
      'step 4 (attempt 1) dead-lettered after 5 receives',
    );
    expect(outcome.action === 'fail' && outcome.record.carrier).to.equal(undefined);
    expect(deadLetter(ranOn, { id: 'm-1', version: 2, attempt: 1 }, 5, ctx)).to.deep.equal({ action: 'ignore' });
  });

  it('does not catch a dead-lettered step: that is the service failing, not the state', () => {
    const outcome = deadLetter(catching(), stepOf(catching()), 5, ctx);
    expect(outcome.action === 'fail' && outcome.record.status).to.equal('FAILED');
  });
});

describe('redrive', () => {
  const failedMachine = (overrides: Partial<MachineRecord> = {}): MachineRecord => ({
    ...step(machine({ state: 'TASK-1', version: 2, seq: 2, attempt: 3 }), failed('boom'), ctx).record,
    ...overrides,
  });
  const later = contextAt(T0 + 60_000);

  it('puts a FAILED machine back to RUNNING at its failed state, as the next version with a fresh retry budget', () => {
    const before = failedMachine();
    expect(before).to.include({ status: 'FAILED', version: 3, attempt: 3 });
    const { record, send } = redrive(before, {}, later);
    expect(record).to.include({ status: 'RUNNING', state: 'TASK-1', version: 4, attempt: 1, seq: 4 });
    for (const gone of ['error', 'finishedAt', 'expiresAt', 'lease', 'wakeAt', 'caught']) {
      expect(record).not.to.have.property(gone);
    }
    expect(record.lastEvent).to.deep.equal({
      seq: 4,
      at: '2026-01-01T00:01:00.000Z',
      outcome: 'redriven',
      version: 4,
      from: 'TASK-1',
      to: 'TASK-1',
      error: 'boom',
    });
    expect(send).to.deep.equal({ message: { id: 'm-1', version: 4, attempt: 1 }, delaySeconds: 0 });
    expect(compareSteps(send.message, before)).to.equal(1);
  });

  it('takes a new state and object, and names the caller when there is one', () => {
    const { record } = redrive(failedMachine(), { state: 'START', object: { fixed: true } }, later, 'alice');
    expect(record).to.deep.include({ state: 'START', object: { fixed: true } });
    expect(record.lastEvent).to.include({ from: 'TASK-1', to: 'START', by: 'alice' });
  });

  it('redrives a machine the dead-letter consumer failed', () => {
    const running = machine({ state: 'TASK-1', version: 2, seq: 2 });
    const outcome = deadLetter(running, stepOf(running), 5, ctx);
    if (outcome.action !== 'fail') throw new Error('expected fail');
    const { record } = redrive(outcome.record, {}, later);
    expect(record.lastEvent.error).to.equal('step 2 (attempt 1) dead-lettered after 5 receives');
    expect(record).to.include({ status: 'RUNNING', version: 4 });
    const noError: MachineRecord = { ...outcome.record };
    delete noError.error;
    expect(redrive(noError, {}, later).record.lastEvent).not.to.have.property('error');
  });

  it('answers 409 naming the status for a machine that is not FAILED, or is being removed', () => {
    for (const status of ['RUNNING', 'PARKED', 'SUCCEEDED'] as const) {
      const error = thrown(() => redrive(machine({ status }), {}, ctx)) as ConflictError;
      expect(error).to.be.instanceOf(ConflictError);
      expect(error.details).to.deep.equal({ status });
      expect(error.message).to.equal(`machine 'm-1' is ${status}, not FAILED: only a FAILED machine can be redriven`);
    }
    const removing = thrown(() => redrive(failedMachine({ removing: true }), {}, ctx)) as ConflictError;
    expect(removing.details).to.deep.equal({ status: 'FAILED', removing: true });
  });

  it('answers 400 for a state not in config or an object that cannot be stored', () => {
    expect((thrown(() => redrive(failedMachine(), { state: 'NOPE' }, ctx)) as ValidationError).details).to.deep.equal([
      { path: 'state', message: "state 'NOPE' is not a key of config" },
    ]);
    expect(thrown(() => redrive(failedMachine(), { object: { '\ud800': 1 } }, ctx))).to.be.instanceOf(ValidationError);
  });

  it("makes decide() treat the redrive's message as early while the API holds the machine, and run it after", () => {
    const before = failedMachine();
    const { record, send } = redrive(before, {}, later);
    const leased = { ...before, lease: { token: 't', until: T0 + 90_000 } };
    expect(decide(leased, send.message, later)).to.deep.include({ action: 'defer', reason: 'early' });
    expect(decide(before, send.message, later)).to.deep.equal({ action: 'drop', reason: 'stale' });
    expect(decide(record, send.message, later)).to.deep.equal({ action: 'run' });
    expect(decide(record, stepOf(before), later)).to.deep.equal({ action: 'drop', reason: 'stale' });
  });
});

describe('wake', () => {
  const waitingMachine = (overrides: Partial<MachineRecord> = {}) =>
    machine({ state: 'TASK-1', version: 1, seq: 1, wakeAt: new Date(T0 + 3_600_000).toISOString(), ...overrides });
  /** A wake that commits (the machine was waiting). */
  const woke = (record: MachineRecord, context = ctx) => {
    const decision = wake(record, context);
    if ('resend' in decision) throw new Error(`resent: ${JSON.stringify(decision)}`);
    return decision;
  };

  it('makes a waiting step due now, counting the wake, keeping version and attempt', () => {
    const { record, send } = woke(waitingMachine({ attempt: 2 }));
    expect(record).to.include({ version: 1, attempt: 2, woken: 1, seq: 2, status: 'RUNNING', state: 'TASK-1' });
    expect(record).not.to.have.property('wakeAt');
    expect(record.lastEvent).to.deep.include({ outcome: 'woken', version: 1, from: 'TASK-1', attempt: 2 });
    expect(send).to.deep.equal({ message: { id: 'm-1', version: 1, attempt: 2, woken: 1 }, delaySeconds: 0 });
    expect(woke({ ...record, wakeAt: new Date(T0 + 5000).toISOString() }).send.message.woken).to.equal(2);
  });

  it('makes the scheduled message stale and the woken one run (early while the API holds the machine)', () => {
    const before = waitingMachine();
    const { record, send } = woke(before);
    const scheduled = stepOf(before);
    expect(decide(before, scheduled, ctx)).to.deep.include({ action: 'wait' });
    expect(decide(record, scheduled, ctx)).to.deep.equal({ action: 'drop', reason: 'stale' });
    expect(decide(record, send.message, ctx)).to.deep.equal({ action: 'run' });
    const leased = { ...before, lease: { token: 'api', until: T0 + 30_000 } };
    expect(decide(leased, send.message, ctx)).to.deep.include({ action: 'defer', reason: 'early' });
    expect(decide(leased, scheduled, ctx)).to.deep.include({ action: 'defer', reason: 'leased' });
    expect(decide(before, send.message, ctx)).to.deep.equal({ action: 'drop', reason: 'stale' });
  });

  it('resets the wake count with the next commit of the step', () => {
    const woken = woke(waitingMachine()).record;
    expect(step(woken, failed('x'), ctx).record).not.to.have.property('woken');
    expect(step(woken, { kind: 'returned', payload: null }, ctx).record).not.to.have.property('woken');
    expect(deadLetter(woken, stepOf(woken), 5, ctx)).to.deep.include({ action: 'fail' });
    expect(deadLetter(woken, stepOf(waitingMachine()), 5, ctx)).to.deep.equal({ action: 'ignore' });
  });

  it('orders steps by version, attempt, then wake count', () => {
    const at = { version: 1, attempt: 2 };
    expect(compareSteps({ ...at, woken: 1 }, at)).to.equal(1);
    expect(compareSteps(at, { ...at, woken: 1 })).to.equal(-1);
    expect(compareSteps({ version: 2, attempt: 1 }, { ...at, woken: 3 })).to.equal(1);
    expect(compareSteps({ version: 1, attempt: 3 }, { ...at, woken: 3 })).to.equal(1);
    expect(stepOf({ id: 'a', ...at })).to.deep.equal({ id: 'a', ...at });
  });

  it('sends the current step again, committing nothing, when it is due and nobody runs it (its message may be lost)', () => {
    const due = [
      machine({ updatedAt: new Date(T0).toISOString() }),
      waitingMachine({ wakeAt: new Date(T0).toISOString(), woken: 2, attempt: 3 }),
      waitingMachine({ wakeAt: new Date(T0 - 1).toISOString(), lease: { token: 't', until: T0 } }),
    ];
    for (const record of due) {
      expect(wake(record, ctx), JSON.stringify(record)).to.deep.equal({
        resend: { message: stepOf(record), delaySeconds: 0 },
      });
      expect(decide(record, stepOf(record), ctx), 'the copy runs the step').to.deep.equal({ action: 'run' });
    }
    expect(overdueStep(machine({ updatedAt: new Date(T0 + 1).toISOString() }), T0)).to.equal(undefined);
    expect(overdueStep(machine({ updatedAt: new Date(T0 - 60_000).toISOString() }), T0, 60_000)).to.deep.equal({
      message: stepOf(machine()),
      delaySeconds: 0,
    });
    expect(overdueStep(machine({ updatedAt: new Date(T0 - 59_999).toISOString() }), T0, 60_000)).to.equal(undefined);
    for (const status of ['PARKED', 'SUCCEEDED', 'FAILED'] as const) {
      expect(overdueStep(machine({ status }), T0 + 3_600_000), status).to.equal(undefined);
    }
    expect(overdueStep(machine({ removing: true }), T0 + 3_600_000)).to.equal(undefined);
  });

  it('answers 409 naming the status and why for a machine that is not waiting', () => {
    const cases: [MachineRecord, unknown, RegExp][] = [
      [machine({ status: 'PARKED' }), { status: 'PARKED' }, /is PARKED, not RUNNING/],
      [machine({ status: 'FAILED' }), { status: 'FAILED' }, /is FAILED, not RUNNING/],
      [machine({ lease: { token: 't', until: T0 + 1 } }), { status: 'RUNNING', reason: 'running' }, /running now/],
      [
        waitingMachine({ lease: { token: 't', until: T0 + 1 } }),
        { status: 'RUNNING', reason: 'running' },
        /its step is running now/,
      ],
      [waitingMachine({ removing: true }), { status: 'RUNNING', removing: true }, /is being removed/],
    ];
    for (const [record, details, message] of cases) {
      const error = thrown(() => wake(record, ctx)) as ConflictError;
      expect(error, JSON.stringify(record)).to.be.instanceOf(ConflictError);
      expect(error.details).to.deep.equal(details);
      expect(error.message).to.match(message);
    }
  });

  it('is waiting only RUNNING, not removing, not leased, and with wakeAt later than now', () => {
    expect(isWaiting(waitingMachine(), T0)).to.equal(true);
    expect(isWaiting(waitingMachine({ status: 'PARKED' }), T0)).to.equal(false);
    expect(isWaiting(waitingMachine({ removing: true }), T0)).to.equal(false);
    expect(isWaiting(waitingMachine({ lease: { token: 't', until: T0 + 1 } }), T0)).to.equal(false);
    expect(isWaiting(waitingMachine({ lease: { token: 't', until: T0 } }), T0)).to.equal(true);
    expect(isWaiting(machine(), T0)).to.equal(false);
  });
});

describe('listing every status', () => {
  it('accepts ALL and comma lists of statuses', () => {
    expect(parseListQuery({ status: 'ALL' }).statuses).to.deep.equal(['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED']);
    expect(parseListQuery({ status: 'FAILED,RUNNING,FAILED' }).statuses).to.deep.equal(['RUNNING', 'FAILED']);
    expect(parseListQuery({ status: 'PARKED' }).statuses).to.deep.equal(['PARKED']);
  });

  it('refuses an unknown status, naming it and the choices', () => {
    const error = thrown(() => parseListQuery({ status: 'FAILED,DONE' })) as ValidationError;
    expect(error.details).to.deep.equal([
      {
        path: 'status',
        message: "'DONE' is not a status: use RUNNING, PARKED, SUCCEEDED, FAILED, a comma list of them, or ALL",
      },
    ]);
  });
});

describe('the diagram of a machine with catches', () => {
  it('draws declared catch edges, counts the caught ones, and labels redrives', () => {
    const record = machine({ catch: { 'TASK-1': 'FINALIZE', '*': 'TASK-1' }, state: 'TASK-1', status: 'RUNNING' });
    const text = mermaidDiagram(record, [
      { seq: 0, outcome: 'created', at: '', version: 0, to: 'START' },
      { seq: 1, outcome: 'caught', at: '', version: 1, from: 'START', to: 'TASK-1', attempt: 3, error: 'x' },
      { seq: 2, outcome: 'caught', at: '', version: 2, from: 'TASK-1', to: 'FINALIZE', attempt: 3, error: 'x' },
      { seq: 3, outcome: 'caught', at: '', version: 3, from: 'FINALIZE', to: 'TASK-1', attempt: 3, error: 'x' },
      { seq: 4, outcome: 'failed', at: '', version: 4, from: 'TASK-1', attempt: 3, error: 'x' },
      { seq: 5, outcome: 'redriven', at: '', version: 5, from: 'TASK-1', to: 'TASK-1', error: 'x' },
      { seq: 6, outcome: 'woken', at: '', version: 5, from: 'TASK-1', attempt: 1 },
      { seq: 7, outcome: 'caught', at: '', version: 6, from: 'START', to: 'TASK-1', attempt: 3, error: 'x' },
    ]);
    const edges = text.split('\n').filter((line) => line.includes('-->'));
    expect(edges).to.deep.equal([
      '    s0 --> s1 : catch 2x',
      '    s1 --> s2 : catch',
      '    s2 --> s1 : catch',
      '    [*] --> s0',
      '    s1 --> [*] : failed',
      '    s1 --> s1 : redriven',
    ]);
  });

  it('draws no catch edge for a machine without catches', () => {
    expect(mermaidDiagram(machine({ catch: {} }), [])).not.to.include('catch');
  });
});
