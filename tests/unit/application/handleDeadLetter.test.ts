import { expect } from 'chai';
import { deadLetter } from '../../../domain/step';
import { handleDeadLetter } from '../../../handlers/application/handleDeadLetter';
import { contextAt, machine, T0 } from '../../helpers/factories';
import { fakeApiDeps } from '../../helpers/fakes';

const current = { id: 'm-1', version: 2, attempt: 1 };
const running = () => machine({ version: 2, seq: 2, state: 'TASK-1' });

describe('a dead-lettered step', () => {
  it('fails the RUNNING machine that waits for it, saying why, with the previous event written first', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(running());
    expect(await handleDeadLetter(deps, current, 5)).to.equal('failed');
    const failed = store.records.get('m-1');
    expect(failed).to.include({ status: 'FAILED', version: 3, seq: 3, state: 'TASK-1' });
    expect(failed?.error).to.deep.equal({
      message: 'step 2 (attempt 1) dead-lettered after 5 receives',
      state: 'TASK-1',
      at: new Date(T0).toISOString(),
    });
    expect(failed?.lastEvent).to.include({ outcome: 'failed', from: 'TASK-1', error: failed?.error?.message });
    expect(failed?.expiresAt).to.equal(T0 / 1000 + 7 * 86_400);
    expect(store.historyOf(machine()).map((event) => event.seq)).to.deep.equal([0]);
  });

  it('fails a park whose deadline message died: nothing else would end its wait', async () => {
    const { deps, store } = fakeApiDeps();
    const wait = { step: { version: 1, attempt: 1 }, timeoutAt: new Date(T0 + 60_000).toISOString() };
    store.put(machine({ version: 2, status: 'PARKED', state: 'TASK-1', wait }));
    expect(await handleDeadLetter(deps, current, 5)).to.equal('failed');
    expect(store.records.get('m-1')?.error?.message).to.match(/deadline of the wait .* dead-lettered/);
  });

  it('ignores a stale copy, an early one, a finished machine and a missing one', async () => {
    const context = contextAt(T0);
    expect(deadLetter(running(), { ...current, version: 1 }, 5, context)).to.deep.equal({ action: 'ignore' });
    expect(deadLetter(running(), { ...current, attempt: 2 }, 5, context)).to.deep.equal({ action: 'ignore' });
    expect(deadLetter(machine({ version: 2, status: 'SUCCEEDED' }), current, 5, context)).to.deep.equal({
      action: 'ignore',
    });
    expect(deadLetter(undefined, current, 5, context)).to.deep.equal({ action: 'ignore' });
    const { deps, store } = fakeApiDeps();
    store.put(machine({ version: 2, status: 'PARKED' }));
    expect(await handleDeadLetter(deps, current, 5)).to.equal('ignored');
    expect(store.records.get('m-1')?.status).to.equal('PARKED');
  });

  it('deletes a machine being removed, which nobody else would now', async () => {
    const { deps, store } = fakeApiDeps();
    store.put({ ...running(), removing: true });
    expect(await handleDeadLetter(deps, current, 5)).to.equal('deleted');
    expect(store.records.has('m-1')).to.equal(false);
  });

  it('comes back later while a handler holds the machine', async () => {
    const { deps, store } = fakeApiDeps();
    store.put({ ...running(), lease: { token: 'busy', until: T0 + 1000 } });
    let failure: unknown;
    await handleDeadLetter(deps, current, 5).catch((error) => {
      failure = error;
    });
    expect((failure as Error).message).to.equal(
      "machine 'm-1' is busy or kept changing; its dead-lettered step comes back later",
    );
    expect(store.records.get('m-1')?.status).to.equal('RUNNING');
  });

  it('reads again when the machine changed between the read and the write', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(running());
    let writes = 0;
    store.before.commit = () => {
      if (++writes === 1) store.put({ ...running(), seq: 5 });
    };
    expect(await handleDeadLetter(deps, current, 5)).to.equal('failed');
    expect(writes).to.equal(2);
  });

  it('gives up after three rounds of changes, for SQS to deliver it again', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(running());
    store.before.commit = () => {
      const record = store.records.get('m-1');
      if (record) store.put({ ...record, seq: record.seq + 10 });
    };
    let failure: unknown;
    await handleDeadLetter(deps, current, 5).catch((error) => {
      failure = error;
    });
    expect(failure).to.be.instanceOf(Error);
    expect(store.calls.filter((call) => call === 'commit')).to.have.length(3);
  });
});
