import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import type { HistoryEvent } from '../../domain/machine';
import { alwaysFails, flaky, noop, park, recover } from '../../test-functions/faulty';
import { finalize, prepare, task1, task2a, task2b } from '../../test-functions/workflow';
import { createTestEnvironment, type StateHandler, testMachine } from '../../testing';
import { api, apiClient, getMachine, waitFor, waitUntilFinished } from '../helpers/api';

/**
 * The test kit runs the service's own rules (docs/testing.md): the same definitions through the
 * kit and through the local stack give the same history, event by event.
 */
const handlers = {
  prepare,
  'task-1': task1,
  'task-2a': task2a,
  'task-2b': task2b,
  finalize,
  flaky,
  'always-fails': alwaysFails,
  recover,
  park,
  noop,
};

/** What must be equal: each event's outcome, version, from, to, delay, attempt and error. */
const compared = (events: HistoryEvent[]) =>
  events.map(({ outcome, version, from, to, delay, attempt, error }) => ({
    outcome,
    version,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(delay === undefined ? {} : { delay }),
    ...(attempt === undefined ? {} : { attempt }),
    ...(error === undefined ? {} : { error }),
  }));

const stackHistory = async (id: string) => compared((await apiClient().history(id)).events as HistoryEvent[]);

async function addOnStack(definition: unknown): Promise<string> {
  const added = await api('POST', '/machines', definition);
  expect(added.status, JSON.stringify(added.body)).to.equal(201);
  return added.body.id;
}

async function onStack(definition: unknown) {
  const id = await addOnStack(definition);
  await waitUntilFinished(id, 45_000);
  return stackHistory(id);
}

const retry = { maxAttempts: 3, backoffSeconds: 1, backoffRate: 1 };
const definitions = {
  retriesThenSuccess: { state: 'A', object: { failTimes: 2 }, config: { A: 'flaky' }, options: { retry } },
  retriesThenCatch: { state: 'A', config: { A: 'always-fails', R: 'recover' }, catch: { A: 'R' }, options: { retry } },
  park: { state: 'ASK', object: { next: 'APPROVE' }, config: { ASK: 'park', APPROVE: 'finalize' } },
  deleteMidRun: { state: 'NAP', object: { sleepMs: 1500 }, config: { NAP: 'sleepy' } },
  year: { state: 'S', object: { steps: 2, delay: 31_536_000 }, config: { S: 'noop' } },
};
const exampleWorkflow = async () => {
  const example = JSON.parse(await readFile('examples/fsm.json', 'utf8'));
  return { ...example, object: { ...example.object, branch: 'a' } };
};

/** What each case does on the stack; they all run at once (most of it is waiting). */
const onTheStack = {
  example: async () => onStack(await exampleWorkflow()),
  retriesThenSuccess: () => onStack(definitions.retriesThenSuccess),
  retriesThenCatch: () => onStack(definitions.retriesThenCatch),
  async park() {
    const id = await addOnStack(definitions.park);
    await waitFor(
      () => getMachine(id),
      (r) => r.body.status === 'PARKED',
      { timeoutMs: 30_000, what: `machine ${id} to park` },
    );
    expect((await api('POST', `/machines/${id}/resume`, { object: { approved: true } })).status).to.equal(202);
    await waitUntilFinished(id);
    return stackHistory(id);
  },
  async deleteMidRun() {
    const id = await addOnStack(definitions.deleteMidRun);
    await waitFor(
      () => getMachine(id),
      (r) => r.body.handlerRunning === true,
      { timeoutMs: 30_000, what: `machine ${id}'s handler to start` },
    );
    const deleted = await api('DELETE', `/machines/${id}`);
    const during = { status: deleted.status, removing: deleted.body.removing, history: await stackHistory(id) };
    await waitFor(
      () => getMachine(id),
      (r) => r.status === 404,
      { timeoutMs: 30_000, what: `machine ${id} to be deleted` },
    );
    return during;
  },
  async year() {
    const id = await addOnStack(definitions.year);
    await waitFor(
      () => getMachine(id),
      (r) => r.body.version === 1,
      { timeoutMs: 30_000, what: `machine ${id} to wait` },
    );
    // maxQueueDelaySeconds is 2 on the test stack: its message comes back every 2 s, and waits again.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const machine = (await getMachine(id)).body;
    const waiting = await stackHistory(id);
    expect((await api('POST', `/machines/${id}/wake`)).status).to.equal(202);
    await waitUntilFinished(id);
    return { machine, waiting, woken: await stackHistory(id) };
  },
};

type Started = { [K in keyof typeof onTheStack]: ReturnType<(typeof onTheStack)[K]> };

describe('the test kit and the local stack give the same history', function () {
  this.timeout(90_000);
  let stack: Started;

  before(() => {
    stack = Object.fromEntries(
      Object.entries(onTheStack).map(([name, run]) => {
        const running = run();
        running.catch(() => undefined); // awaited (and reported) by its own test
        return [name, running];
      }),
    ) as unknown as Started;
  });

  it('the example workflow (examples/fsm.json, branch a)', async () => {
    const kit = await testMachine(await exampleWorkflow(), handlers);
    expect(compared(kit.history)).to.deep.equal(await stack.example);
    expect(kit.status).to.equal('SUCCEEDED');
  });

  it('retries, then success', async () => {
    const kit = await testMachine(definitions.retriesThenSuccess, handlers);
    expect(compared(kit.history)).to.deep.equal(await stack.retriesThenSuccess);
    expect(kit.history.filter((event) => event.outcome === 'retry')).to.have.length(2);
  });

  it('retries, then catch', async () => {
    const kit = await testMachine(definitions.retriesThenCatch, handlers);
    expect(compared(kit.history)).to.deep.equal(await stack.retriesThenCatch);
    expect(kit.history.map((event) => event.outcome)).to.include('caught');
  });

  it('park, then resume', async () => {
    const env = createTestEnvironment(handlers);
    const { id } = await env.add(definitions.park);
    await env.run(id, 'parked');
    await env.resume(id, { object: { approved: true } });
    const kit = await env.run(id);
    expect(compared(kit.history)).to.deep.equal(await stack.park);
    expect(kit.object).to.deep.equal({ approved: true });
  });

  it('delete mid-run: removing while its handler runs, gone after', async () => {
    // On the stack the test deletes while `sleepy` sleeps; in the kit the handler itself does.
    let during: { answer: string; history: HistoryEvent[] } | undefined;
    const env = createTestEnvironment({
      sleepy: (async ({ id }) => {
        during = { answer: await env.delete(id), history: await env.history(id) };
        return null;
      }) as StateHandler,
    });
    const { id } = await env.add(definitions.deleteMidRun);
    await env.runUntilIdle();
    expect(await env.get(id).catch((error: Error) => error)).to.have.property('code', 'MACHINE_NOT_FOUND');
    const onStack = await stack.deleteMidRun;
    expect(onStack).to.include({ status: 202, removing: true });
    expect(during?.answer).to.equal('removing');
    expect(compared(during?.history ?? [])).to.deep.equal(onStack.history);
  });

  it('a one-year delay: the same wait (the stack re-checks it every 2 s), then the same wake', async () => {
    const env = createTestEnvironment(handlers);
    const { id } = await env.add(definitions.year);
    await env.advance(0);
    const waiting = await env.history(id);
    await env.wake(id);
    const kit = await env.run(id);
    const onStack = await stack.year;
    expect(onStack.machine).to.include({ status: 'RUNNING', version: 1 });
    expect(Date.parse(onStack.machine.wakeAt) - Date.parse(onStack.machine.updatedAt)).to.equal(31_536_000_000);
    expect(compared(waiting)).to.deep.equal(onStack.waiting);
    expect(compared(kit.history)).to.deep.equal(onStack.woken);
    // Left alone, the kit's machine takes the whole year, in virtual time.
    expect((await testMachine(definitions.year, handlers)).elapsedSeconds).to.equal(31_536_000);
  });
});
