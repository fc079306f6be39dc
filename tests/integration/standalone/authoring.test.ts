import { readFile, writeFile } from 'node:fs/promises';
import { expect } from 'chai';
import { ApiClient } from '../../../client/apiClient';
import { pollUntil } from '../../../client/poll';
import { isFinished, type MachineView } from '../../../domain/machine';
import type { LocalStack } from '../../helpers/localStack';
import { readmeSnippet } from '../../helpers/readmeSnippet';
import { startOwnTestStack } from '../../helpers/stack';

const USER_FUNCTION = 'src/chargeCard.ts';

/**
 * The authoring loop as `npm start` runs it (param inProcess false: each function instance on a
 * worker thread of its own): README's state function, from src/, runs as written; a saved edit
 * is live on the next step without a restart; a handler busy on its CPU holds up nothing else.
 */
describe('writing a state function on the local stack (npm start: functions on worker threads)', () => {
  let stack: LocalStack;
  let client: ApiClient;

  before(async function () {
    this.timeout(120_000);
    stack = await startOwnTestStack({ params: { inProcess: 'false' }, env: { FSM_WATCH: USER_FUNCTION } });
    client = new ApiClient({ endpoint: stack.apiUrl });
  });

  after(async function () {
    this.timeout(30_000);
    await stack?.stop();
  });

  const add = async (definition: unknown) => {
    const answer = await client.send<MachineView>('POST', '/machines', definition);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    return answer.body as MachineView;
  };
  const finished = (id: string) =>
    pollUntil(
      () => client.send<MachineView>('GET', `/machines/${id}`),
      (r) => r.status === 200 && isFinished((r.body as MachineView).status),
      { timeoutMs: 60_000, what: `machine ${id} to finish` },
    ).then((r) => r.body as MachineView);

  it("README's example, src/chargeCard.ts as it is, runs examples/charge.json to SUCCEEDED", async function () {
    this.timeout(90_000);
    expect(readmeSnippet(USER_FUNCTION)).to.equal(await readFile(USER_FUNCTION, 'utf8'));
    const machine = await finished((await add(JSON.parse(await readFile('examples/charge.json', 'utf8')))).id);
    expect(machine).to.deep.include({ status: 'SUCCEEDED', object: { orderId: 42, charged: true } });
  });

  it('runs an edit of the handler, saved while the stack runs, at the next step', async function () {
    this.timeout(120_000);
    const original = await readFile(USER_FUNCTION, 'utf8');
    const edited = original.replace('charged: true }', "charged: true, by: 'the edited handler' }");
    expect(edited).to.not.equal(original);
    const definition = JSON.parse(await readFile('examples/charge.json', 'utf8'));
    try {
      await writeFile(USER_FUNCTION, edited);
      // The watcher rebuilds the bundle, then the next invocation loads it: no restart.
      const machine = await pollUntil(
        async () => finished((await add(definition)).id),
        (m) => (m.object as { by?: string }).by === 'the edited handler',
        { timeoutMs: 90_000, intervalMs: 500, what: 'a machine run by the edited handler' },
      );
      expect(machine.status).to.equal('SUCCEEDED');
    } finally {
      await writeFile(USER_FUNCTION, original);
    }
  });

  it('a handler busy on its CPU does not hold up the API: adds answer while it still runs', async function () {
    this.timeout(60_000);
    const noop = { state: 'A', object: { steps: 1 }, config: { A: 'noop' } };
    // Instances of the add function for the adds below, so none of them waits for a cold start.
    await Promise.all([1, 2, 3].map(() => add(noop)));
    const heavy = await add({ state: 'H', object: { busyMs: 5000 }, config: { H: 'heavy' } });
    await pollUntil(
      () => client.send<MachineView>('GET', `/machines/${heavy.id}`),
      (r) => (r.body as MachineView).handlerRunning === true,
      { timeoutMs: 20_000, what: 'the heavy handler to start' },
    );
    await Promise.all([1, 2, 3].map(() => add(noop)));
    // Answered before the heavy step ended: on one thread they would have waited for it.
    const during = await client.send<MachineView>('GET', `/machines/${heavy.id}`);
    expect(during.body).to.include({ status: 'RUNNING', version: 0, handlerRunning: true });
    expect((await finished(heavy.id)).status).to.equal('SUCCEEDED');
  });
});
