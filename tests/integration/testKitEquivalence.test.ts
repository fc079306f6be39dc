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

describe('the test kit and the local stack give the same history', function () {
  this.timeout(90_000);

  for (const [title, definition] of [
    ['the example workflow (examples/fsm.json, branch a)', { branch: 'a' }],
    ['retries, then success', { state: 'A', object: { failTimes: 2 }, config: { A: 'flaky' }, options: { retry } }],
    [
      'retries, then catch',
      { state: 'A', config: { A: 'always-fails', R: 'recover' }, catch: { A: 'R' }, options: { retry } },
    ],
  ] as const) {
    it(title, async () => {
      const example = JSON.parse(await readFile('examples/fsm.json', 'utf8'));
      const machine =
        'branch' in definition ? { ...example, object: { ...example.object, branch: definition.branch } } : definition;
      const [kit, stack] = await Promise.all([testMachine(machine, handlers), onStack(machine)]);
      expect(compared(kit.history)).to.deep.equal(stack);
      expect(stack.at(-1)?.outcome).to.equal('succeeded');
    });
  }

  it('park, then resume', async () => {
    const machine = { state: 'ASK', object: { next: 'APPROVE' }, config: { ASK: 'park', APPROVE: 'finalize' } };
    const env = createTestEnvironment(handlers);
    const { id: kitId } = await env.add(machine);
    await env.run(kitId, 'parked');
    await env.resume(kitId, { object: { approved: true } });
    const kit = await env.run(kitId);

    const id = await addOnStack(machine);
    await waitFor(
      () => getMachine(id),
      (r) => r.body.status === 'PARKED',
      { timeoutMs: 30_000, what: `machine ${id} to park` },
    );
    expect((await api('POST', `/machines/${id}/resume`, { object: { approved: true } })).status).to.equal(202);
    await waitUntilFinished(id);
    expect(compared(kit.history)).to.deep.equal(await stackHistory(id));
    expect(kit.object).to.deep.equal({ approved: true });
  });

  it('delete mid-run: removing while its handler runs, gone after', async () => {
    // On the stack the test deletes while `sleepy` sleeps; in the kit the handler itself does.
    let kitDuring: { answer: string; history: HistoryEvent[] } | undefined;
    const env = createTestEnvironment({
      sleepy: (async ({ id }) => {
        kitDuring = { answer: await env.delete(id), history: await env.history(id) };
        return null;
      }) as StateHandler,
    });
    const machine = { state: 'NAP', object: { sleepMs: 1500 }, config: { NAP: 'sleepy' } };
    const { id: kitId } = await env.add(machine);
    await env.runUntilIdle();
    expect((await env.get(kitId).catch((error: Error) => error)) as Error).to.have.property(
      'code',
      'MACHINE_NOT_FOUND',
    );

    const id = await addOnStack(machine);
    await waitFor(
      () => getMachine(id),
      (r) => r.body.handlerRunning === true,
      { timeoutMs: 30_000, what: `machine ${id}'s handler to start` },
    );
    const deleted = await api('DELETE', `/machines/${id}`);
    expect(deleted.status).to.equal(202);
    expect(kitDuring?.answer).to.equal(deleted.body.removing ? 'removing' : 'deleted');
    expect(compared(kitDuring?.history ?? [])).to.deep.equal(await stackHistory(id));
    await waitFor(
      () => getMachine(id),
      (r) => r.status === 404,
      { timeoutMs: 30_000, what: `machine ${id} to be deleted` },
    );
  });

  it('a one-year delay: the same wait (the stack re-checks it every 2 s), then the same wake', async () => {
    const machine = { state: 'S', object: { steps: 2, delay: 31_536_000 }, config: { S: 'noop' } };
    const env = createTestEnvironment(handlers);
    const { id: kitId } = await env.add(machine);
    await env.advance(0);
    const kitWaiting = await env.history(kitId);

    const id = await addOnStack(machine);
    await waitFor(
      () => getMachine(id),
      (r) => r.body.version === 1,
      { timeoutMs: 30_000, what: `machine ${id} to wait` },
    );
    // maxQueueDelaySeconds is 2 on the test stack: its message comes back every 2 s, and waits again.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const waiting = await getMachine(id);
    expect(waiting.body).to.include({ status: 'RUNNING', version: 1 });
    expect(Date.parse(waiting.body.wakeAt) - Date.parse(waiting.body.updatedAt)).to.equal(31_536_000_000);
    expect(compared(kitWaiting)).to.deep.equal(await stackHistory(id));

    await env.wake(kitId);
    const kit = await env.run(kitId);
    expect((await api('POST', `/machines/${id}/wake`)).status).to.equal(202);
    await waitUntilFinished(id);
    expect(compared(kit.history)).to.deep.equal(await stackHistory(id));
    // Left alone, the kit's machine takes the whole year, in virtual time.
    expect((await testMachine(machine, handlers)).elapsedSeconds).to.equal(31_536_000);
  });
});
