import { expect } from 'chai';
import type { StateHandler } from '../../../domain/contract';
import { MachineNotFoundError, ValidationError } from '../../../domain/errors';
import { backoffSeconds } from '../../../domain/step';
import { flaky, noop, park, recover, sleepy } from '../../../test-functions/faulty';
import { createTestEnvironment, type HistoryEvent, TestKitError, testMachine } from '../../../testing';
import { rejection } from '../../helpers/rejection';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const YEAR = 31_536_000;

/** Each event's outcome, from, to, delay, attempt and error, without its time. */
const shape = (events: HistoryEvent[]) => events.map(({ at: _at, seq: _seq, ...event }) => event);
const seconds = (event: HistoryEvent | undefined) => (Date.parse(event?.at ?? '') - T0) / 1000;

/** Goes to `object.next` after `object.wait` seconds, or finishes. */
const waits: StateHandler<{ next?: string; wait?: number }> = async ({ object }) =>
  object.next ? { state: object.next, object: { wait: object.wait }, delay: object.wait ?? 0 } : null;

describe('test kit: testMachine', () => {
  it('runs a machine to its end and returns what GET and GET history would', async () => {
    const run = await testMachine(
      { state: 'A', object: { next: 'B', wait: 5 }, config: { A: 'waits', B: 'waits' } },
      { waits },
      { now: T0 },
    );
    expect(run).to.deep.include({
      status: 'SUCCEEDED',
      state: 'B',
      version: 2,
      elapsedSeconds: 5,
      object: { wait: 5 },
    });
    expect(run.id).to.equal(run.machine.id);
    expect(shape(run.history)).to.deep.equal([
      { outcome: 'created', version: 0, to: 'A' },
      { outcome: 'transition', version: 1, from: 'A', to: 'B', delay: 5 },
      { outcome: 'succeeded', version: 2, from: 'B' },
    ]);
    expect(seconds(run.history[2])).to.equal(5);
  });

  it('lets a year pass between two steps in milliseconds of real time', async () => {
    const started = performance.now();
    const run = await testMachine(
      { state: 'A', object: { next: 'B', wait: YEAR }, config: { A: 'waits', B: 'waits' } },
      { waits },
      { now: T0 },
    );
    expect(run.status).to.equal('SUCCEEDED');
    expect(run.elapsedSeconds).to.equal(YEAR);
    // Far below the year it took, with room for a loaded CI machine.
    expect(performance.now() - started).to.be.below(10_000);
  });

  it('waits each retry exactly backoffSeconds * backoffRate^(n-1)', async () => {
    const retry = { maxAttempts: 4, backoffSeconds: 3, backoffRate: 2.5 };
    const run = await testMachine(
      { state: 'A', object: { failTimes: 3 }, config: { A: 'flaky' }, options: { retry } },
      { flaky },
      { now: T0 },
    );
    const delays = run.history.filter((event) => event.outcome === 'retry').map((event) => event.delay);
    expect(delays)
      .to.deep.equal([1, 2, 3].map((n) => backoffSeconds(retry, n)))
      .and.deep.equal([3, 8, 19]);
    expect(run.elapsedSeconds).to.equal(3 + 8 + 19);
    expect(run.status).to.equal('SUCCEEDED');
  });

  it('names handlers by short key, full name or ARN, as the allow-list resolves them', async () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:billing-charge';
    const config = { A: 'first', B: 'serverless-statemachine-local-second', C: arn };
    const go = (state: string) => async () => ({ state });
    const handlers = { first: go('B'), 'serverless-statemachine-local-second': go('C'), [arn]: async () => null };
    expect((await testMachine({ state: 'A', config }, handlers)).status).to.equal('SUCCEEDED');
  });

  it('rejects a bad definition with the API error and its details', async () => {
    const error = await rejection(testMachine({ state: 'A', config: { A: 'unknown' } }, { waits }));
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).details).to.deep.equal([
      { path: 'config.A', message: "function 'unknown' is not on this service's allow-list" },
    ]);
    const tooLong = await rejection(
      testMachine({ state: 'A', config: { A: 'waits' }, timeouts: { A: 57 } }, { waits }),
    );
    expect((tooLong as ValidationError).details[0]?.path).to.equal('timeouts.A');
  });

  it('leaseSeconds bounds timeouts as the deployment would; service and stage make the full names', async () => {
    const definition = { state: 'A', config: { A: 'shop-test-waits' }, timeouts: { A: 17 } };
    const options = { service: 'shop', stage: 'test', leaseSeconds: 20 };
    const error = await rejection(testMachine(definition, { 'shop-test-waits': waits }, options));
    expect((error as ValidationError).details[0]?.message).to.contain('at most 16 s');
    const run = await testMachine({ ...definition, timeouts: { A: 16 } }, { waits }, options);
    expect(run.status).to.equal('SUCCEEDED');
  });

  it('until parked, or a predicate; rejects when the machine cannot get there', async () => {
    const definition = { state: 'A', object: { next: 'B' }, config: { A: 'park', B: 'waits' } };
    const parked = await testMachine(definition, { park, waits }, { until: 'parked' });
    expect(parked).to.deep.include({ status: 'PARKED', state: 'B', version: 1 });
    const atB = await testMachine(
      { state: 'A', object: { next: 'B', wait: 9 }, config: { A: 'waits', B: 'waits' } },
      { waits },
      { until: (m) => m.state === 'B', now: T0 },
    );
    expect(atB).to.deep.include({ status: 'RUNNING', state: 'B', elapsedSeconds: 0 });
    const stuck = await rejection(testMachine(definition, { park, waits }));
    expect(stuck).to.be.instanceOf(TestKitError);
    expect(stuck.message).to.contain("PARKED at state 'B'").and.contain("until: 'parked'");
  });

  it('stops a loop at maxSteps with a clear error', async () => {
    const loop = async () => ({ state: 'A' });
    const error = await rejection(testMachine({ state: 'A', config: { A: 'loop' } }, { loop }, { maxSteps: 50 }));
    expect(error).to.be.instanceOf(TestKitError);
    expect(error.message).to.contain('maxSteps (50)');
    const ok = await testMachine(
      { state: 'S', object: { steps: 50 }, config: { S: 'noop' } },
      { noop },
      { maxSteps: 50 },
    );
    expect(ok.version).to.equal(50);
  });

  it('starts at options.now and stamps events in virtual time', async () => {
    const run = await testMachine({ state: 'A', config: { A: 'waits' } }, { waits }, { now: '2030-05-01T12:00:00Z' });
    expect(run.history.map((event) => event.at)).to.deep.equal([
      '2030-05-01T12:00:00.000Z',
      '2030-05-01T12:00:00.000Z',
    ]);
    expect(
      await rejection(testMachine({ state: 'A', config: { A: 'waits' } }, { waits }, { now: 'soon' })),
    ).to.be.instanceOf(TestKitError);
  });

  it('reports a handler that throws as Lambda does, its error type named', async () => {
    const typed = async () => {
      throw new TypeError('bad input');
    };
    const run = await testMachine(
      { state: 'A', config: { A: 'typed' }, options: { retry: { maxAttempts: 1 } } },
      { typed },
    );
    expect(run.machine.error?.message).to.equal('TypeError: bad input');
  });
});

describe('test kit: injected failures', () => {
  const retry = { maxAttempts: 3, backoffSeconds: 2, backoffRate: 2 };
  const ok = async () => null;
  const errors = (events: HistoryEvent[]) => events.filter((e) => e.error).map((e) => [e.outcome, e.error]);

  it('throw, an Error and garbage, per state and attempt', async () => {
    const run = await testMachine(
      { state: 'A', config: { A: 'ok' }, options: { retry } },
      { ok },
      {
        failures: { A: { 1: 'throw', 2: new RangeError('out of range') } },
        now: T0,
      },
    );
    expect(errors(run.history)).to.deep.equal([
      ['retry', 'injected failure (attempt 1)'],
      ['retry', 'RangeError: out of range'],
    ]);
    expect(run).to.deep.include({ status: 'SUCCEEDED', elapsedSeconds: 2 + 4 });
    const garbage = await testMachine(
      { state: 'A', config: { A: 'ok' } },
      { ok },
      { failures: { A: { 1: 'garbage' } } },
    );
    expect(garbage.status).to.equal('FAILED');
    expect(garbage.machine.error?.message).to.match(/^malformed handler result/);
  });

  it('timeout: the state timeout passes in virtual time, then the retry', async () => {
    const run = await testMachine(
      { state: 'A', config: { A: 'ok' }, options: { retry }, timeouts: { A: 7 } },
      { ok },
      {
        failures: { A: { 1: 'timeout' } },
        now: T0,
      },
    );
    expect(errors(run.history)).to.deep.equal([['retry', "timeout: no answer within the state's timeout of 7 s"]]);
    expect(seconds(run.history[1])).to.equal(7);
    expect(run.elapsedSeconds).to.equal(7 + 2);
    const untimed = await testMachine(
      { state: 'A', config: { A: 'ok' }, options: { retry } },
      { ok },
      { failures: { A: { 1: 'timeout' } }, now: T0 },
    );
    expect(untimed.elapsedSeconds).to.equal(56 + 2);
  });

  it('throttle: tried again 2 s later, the attempt not used up, nothing in the history', async () => {
    const run = await testMachine(
      { state: 'A', config: { A: 'ok' }, options: { retry: { maxAttempts: 1 } } },
      { ok },
      {
        failures: { A: { 1: 'throttle' } },
        now: T0,
      },
    );
    expect(run).to.deep.include({ status: 'SUCCEEDED', elapsedSeconds: 2 });
    expect(shape(run.history).map((e) => e.outcome)).to.deep.equal(['created', 'succeeded']);
  });

  it('a catch takes the failure once the retries are spent, and hands it over', async () => {
    const run = await testMachine(
      {
        state: 'A',
        object: { next: 'Z' },
        config: { A: 'ok', R: 'recover', Z: 'ok' },
        catch: { A: 'R' },
        options: { retry: { maxAttempts: 2, backoffSeconds: 1, backoffRate: 2 } },
      },
      { ok, recover },
      { failures: { A: { 1: 'throw', 2: 'throw' } } },
    );
    expect(run.status).to.equal('SUCCEEDED');
    expect(run.object).to.deep.equal({
      next: 'Z',
      caught: { message: 'injected failure (attempt 2)', state: 'A', attempt: 2 },
    });
  });
});

describe('test kit: createTestEnvironment', () => {
  it('add, get, history, advance: steps run when their time comes', async () => {
    const env = createTestEnvironment({ waits }, { now: T0 });
    const added = await env.add({
      name: 'm',
      state: 'A',
      object: { next: 'B', wait: 60 },
      config: { A: 'waits', B: 'waits' },
    });
    expect(added).to.include({ id: 'm', status: 'RUNNING', version: 0 });
    await env.advance(0);
    expect((await env.get('m')).state).to.equal('B');
    await env.advance(59);
    expect((await env.get('m')).status).to.equal('RUNNING');
    await env.advance(1);
    expect((await env.get('m')).status).to.equal('SUCCEEDED');
    expect(env.now()).to.equal(T0 + 60_000);
    expect((await env.history('m')).map((e) => e.outcome)).to.deep.equal(['created', 'transition', 'succeeded']);
    expect(env.steps()).to.equal(2);
  });

  it('resume a parked machine, wake a waiting one, redrive a failed one', async () => {
    const env = createTestEnvironment({ park, waits, flaky }, { now: T0 });
    await env.add({ name: 'p', state: 'A', object: { next: 'B' }, config: { A: 'park', B: 'waits' } });
    await env.add({
      name: 'f',
      state: 'A',
      object: { failTimes: 1 },
      config: { A: 'flaky' },
      options: { retry: { maxAttempts: 1 } },
    });
    await env.runUntilIdle();
    expect((await env.get('p')).status).to.equal('PARKED');
    expect((await env.get('f')).status).to.equal('FAILED');
    // A finished machine is gone for clients after its retention (7 days by default), as on the stack.
    await env.advance(7 * 86_400);
    expect(await rejection(env.get('f'))).to.be.instanceOf(MachineNotFoundError);
    const env2 = createTestEnvironment({ waits }, { now: T0 });
    await env2.add({ name: 'w', state: 'A', object: { next: 'B', wait: YEAR }, config: { A: 'waits', B: 'waits' } });
    await env2.advance(0);
    await env2.wake('w');
    const woken = await env2.run('w');
    expect(woken.elapsedSeconds).to.equal(0);
    expect(woken.history.map((e) => e.outcome)).to.deep.equal(['created', 'transition', 'woken', 'succeeded']);
    await env.resume('p', { object: { resumed: true } });
    const resumed = await env.run('p');
    expect(resumed).to.deep.include({ status: 'SUCCEEDED', object: { resumed: true } });
    const env3 = createTestEnvironment({ flaky }, { now: T0 });
    await env3.add({
      name: 'f',
      state: 'A',
      object: { failTimes: 1 },
      config: { A: 'flaky' },
      options: { retry: { maxAttempts: 1 } },
    });
    expect((await env3.run('f')).status).to.equal('FAILED');
    await env3.redrive('f', { object: { failTimes: 0 } });
    expect((await env3.run('f')).history.map((e) => e.outcome)).to.deep.equal([
      'created',
      'failed',
      'redriven',
      'succeeded',
    ]);
  });

  it('delete: at once when nothing runs, after the step when a handler runs', async () => {
    const env = createTestEnvironment({ waits, sleepy }, { now: T0 });
    await env.add({ name: 'idle', state: 'A', object: { next: 'B', wait: 60 }, config: { A: 'waits', B: 'waits' } });
    await env.advance(0);
    expect(await env.delete('idle')).to.equal('deleted');
    expect(await rejection(env.get('idle'))).to.be.instanceOf(MachineNotFoundError);
    let during: string | undefined;
    const deleting: StateHandler = async ({ id }) => {
      during = await env2.delete(id);
      return { state: 'A' };
    };
    const env2 = createTestEnvironment({ deleting }, { now: T0 });
    await env2.add({ name: 'busy', state: 'A', config: { A: 'deleting' } });
    const error = await rejection(env2.run('busy'));
    expect(during).to.equal('removing');
    expect(error).to.be.instanceOf(MachineNotFoundError);
    await env2.runUntilIdle();
  });

  it('hands out copies: changing what it returned changes nothing stored', async () => {
    const env = createTestEnvironment({ park, waits }, { now: T0 });
    await env.add({ name: 'p', state: 'A', object: { next: 'B', list: [1] }, config: { A: 'park', B: 'waits' } });
    await env.runUntilIdle();
    const seen = await env.get('p');
    (seen.object as { list: number[] }).list.push(2);
    expect((await env.get('p')).object).to.deep.equal({ next: 'B', list: [1] });
  });
});

describe('test kit: throughput', () => {
  it('runs machines of a hundred no-op steps one after another in one process (its rate: npm run bench)', async function () {
    this.timeout(60_000);
    const machines = 100;
    const steps = 100;
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let i = 0; i < machines; i++) {
      const run = await testMachine({ state: 'S', object: { steps }, config: { S: 'noop' } }, { noop });
      expect(run).to.include({ status: 'SUCCEEDED', version: steps });
    }
    const { user, system } = process.cpuUsage(cpu);
    const perSecond = Math.round((machines * steps) / ((performance.now() - started) / 1000));
    const perCpuSecond = Math.round((machines * steps) / ((user + system) / 1e6));
    // Wall time depends on what else the machine runs; CPU time far less (docs/testing.md "Throughput").
    console.log(
      `      test kit: ${perSecond} no-op steps/s, ${perCpuSecond} per CPU-second (${machines} machines x ${steps} steps, one process)`,
    );
  });
});

describe('test kit: callbacks', () => {
  it('answers a park by its callback token, and expires one whose timeout passes', async () => {
    const env = createTestEnvironment({ park }, { now: T0 });
    const asked = await env.add({
      state: 'A',
      object: { next: 'B', exposeToken: true },
      config: { A: 'park', B: 'park' },
    });
    await env.run(asked.id, 'parked');
    const token = (await env.get(asked.id)).object as { callbackToken: string };
    const resumed = await env.callback(token.callbackToken, { object: { approved: true } });
    expect(resumed.status).to.equal('RUNNING');

    const timed = await env.add({ state: 'A', object: { parkTimeout: 60 }, config: { A: 'park', FINALIZE: 'park' } });
    await env.run(timed.id, 'parked');
    await env.advance(60);
    const failed = await env.get(timed.id);
    expect(failed.status).to.equal('FAILED');
    expect(failed.error?.message).to.match(/^timed out/);
  });
});
