import { expect } from 'chai';
import { createTestEnvironment, testMachine } from 'serverless-statemachine/testing';
import example from '../../examples/fsm.json';
import { alwaysFails, flaky, park, recover } from '../../test-functions/faulty';
import { finalize, prepare, task1, task2a, task2b } from '../../test-functions/workflow';

/** The example workflow's functions, by the keys examples/fsm.json names them with. */
const workflow = { prepare, 'task-1': task1, 'task-2a': task2a, 'task-2b': task2b, finalize };
const day = 86_400;

describe('examples: the example workflow (examples/fsm.json)', () => {
  for (const branch of ['a', 'b'] as const) {
    it(`takes branch ${branch} when the object pins it`, async () => {
      const run = await testMachine({ ...example, object: { ...example.object, branch } }, workflow);
      expect(run.status).to.equal('SUCCEEDED');
      expect(run.object).to.deep.include({ trail: ['START', 'TASK-1', `TASK-2${branch}`] });
      expect(run.history.map((event) => event.to ?? event.outcome)).to.deep.equal([
        'START',
        'TASK-1',
        `TASK-2${branch}`,
        'FINALIZE',
        'succeeded',
      ]);
      // examples/fsm.json waits `object.delay` (1 s) before each of its three steps after START.
      expect(run.elapsedSeconds).to.equal(3);
    });
  }

  it('waits a day between steps without taking a day', async () => {
    const run = await testMachine({ ...example, object: { delay: day, branch: 'a' } }, workflow);
    expect(run.elapsedSeconds).to.equal(3 * day);
  });
});

describe('examples: retries and catch', () => {
  it('retries a flaky step with backoff, then goes on', async () => {
    const run = await testMachine(
      { state: 'CHARGE', object: { failTimes: 2 }, config: { CHARGE: 'flaky' } },
      { flaky },
    );
    expect(run.status).to.equal('SUCCEEDED');
    expect(run.history.filter((e) => e.outcome === 'retry').map((e) => [e.attempt, e.delay])).to.deep.equal([
      [2, 1],
      [3, 2],
    ]);
    expect(run.elapsedSeconds).to.equal(3);
  });

  it('sends a step that keeps failing to its catch state, with the failure', async () => {
    const run = await testMachine(
      {
        state: 'CHARGE',
        object: { next: 'DONE' },
        config: { CHARGE: 'always-fails', REFUND: 'recover', DONE: 'finalize' },
        catch: { CHARGE: 'REFUND' },
      },
      { 'always-fails': alwaysFails, recover, finalize },
    );
    expect(run.status).to.equal('SUCCEEDED');
    expect(run.object).to.deep.include({
      caught: { message: 'always fails (attempt 3)', state: 'CHARGE', attempt: 3 },
    });
  });
});

describe('examples: park and resume', () => {
  it('parks until resumed, then runs on with the data given', async () => {
    const env = createTestEnvironment({ park, ...workflow });
    const { id } = await env.add({
      state: 'APPROVAL',
      object: { next: 'FINALIZE' },
      config: { APPROVAL: 'park', FINALIZE: 'finalize' },
    });
    expect((await env.run(id, 'parked')).state).to.equal('FINALIZE');
    await env.advance(30 * day);
    await env.resume(id, { object: { approved: true } });
    const run = await env.run(id);
    expect(run.status).to.equal('SUCCEEDED');
    expect(run.history.map((e) => e.outcome)).to.deep.equal(['created', 'parked', 'resumed', 'succeeded']);
    expect(run.elapsedSeconds).to.equal(30 * day);
  });
});
