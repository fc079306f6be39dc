import { expect } from 'chai';
import { ConflictError, MachineNotFoundError } from '../../../domain/errors';
import { API_LEASE_SECONDS } from '../../../domain/limits';
import { historyKey, type MachineRecord, stepOf } from '../../../domain/machine';
import { decide, step } from '../../../domain/step';
import { redriveMachine } from '../../../handlers/application/redriveMachine';
import { createStepProcessor } from '../../../handlers/application/stepProcessor';
import { wakeMachine } from '../../../handlers/application/wakeMachine';
import { contextAt, machine, scope, T0 } from '../../helpers/factories';
import { fakeApiDeps, ScriptedInvoker } from '../../helpers/fakes';
import { rejection } from '../../helpers/rejection';

const failedMachine = (overrides: Partial<MachineRecord> = {}): MachineRecord => ({
  ...step(
    machine({ state: 'TASK-1', version: 2, seq: 2, attempt: 3 }),
    { kind: 'failed', message: 'boom', retryable: true },
    contextAt(T0 - 1000),
  ).record,
  ...overrides,
});

const waitingMachine = (overrides: Partial<MachineRecord> = {}) =>
  machine({ state: 'TASK-1', version: 1, seq: 1, wakeAt: new Date(T0 + 600_000).toISOString(), ...overrides });

describe('redriving a machine', () => {
  it('claims the FAILED machine, writes its failed event, sends the next step, then commits RUNNING', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(failedMachine());
    const record = await redriveMachine(deps, 'm-1', {});
    expect(store.calls).to.deep.equal(['getWithLease', 'claim', 'commit']);
    expect(record).to.include({ status: 'RUNNING', state: 'TASK-1', version: 4, attempt: 1 });
    expect(store.records.get('m-1')).to.deep.equal(record);
    expect(store.records.get('m-1')).not.to.have.property('lease');
    expect(store.events.get(historyKey(record))?.get(3)?.outcome).to.equal('failed');
    expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 4, attempt: 1 }, delaySeconds: 0 }]);
  });

  it('passes the caller on to the history event', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(failedMachine());
    expect((await redriveMachine(deps, 'm-1', { state: 'START' }, 'ops')).lastEvent).to.include({
      by: 'ops',
      to: 'START',
    });
  });

  it('answers 404 for an unknown machine and for one past its retention', async () => {
    const { deps, store } = fakeApiDeps();
    expect(await rejection(redriveMachine(deps, 'm-1', {}))).to.be.instanceOf(MachineNotFoundError);
    store.put(failedMachine({ expiresAt: T0 / 1000 }));
    expect(await rejection(redriveMachine(deps, 'm-1', {}))).to.be.instanceOf(MachineNotFoundError);
  });

  it('answers 409 naming the status for a machine that is not FAILED, changing nothing', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(machine({ status: 'SUCCEEDED' }));
    const error = (await rejection(redriveMachine(deps, 'm-1', {}))) as ConflictError;
    expect(error).to.be.instanceOf(ConflictError);
    expect(error.details).to.deep.equal({ status: 'SUCCEEDED' });
    expect(queue.sent).to.deep.equal([]);
  });

  it('answers 409 "try again" when another redrive holds or moved the machine first', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(failedMachine());
    // Two redrives read the FAILED machine; the first commits, the second's claim fails.
    store.before.claim = async () => {
      store.before.claim = undefined;
      await redriveMachine(deps, 'm-1', {});
    };
    const error = await rejection(redriveMachine(deps, 'm-1', {}));
    expect(error).to.be.instanceOf(ConflictError);
    expect(error.message).to.equal("machine 'm-1' changed while redriving it; try again");
    expect(queue.sent).to.have.length(1);
    expect(store.records.get('m-1')).to.include({ version: 4, seq: 4 });
  });

  it('deletes the machine and answers 404 when a delete came in while redriving', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(failedMachine());
    store.before.commit = () => {
      const current = store.records.get('m-1') as MachineRecord;
      store.put({ ...current, removing: true });
    };
    expect(await rejection(redriveMachine(deps, 'm-1', {}))).to.be.instanceOf(MachineNotFoundError);
    expect(store.records.has('m-1')).to.equal(false);
  });

  it('answers 409 when its lease ran out before the commit', async () => {
    let now = T0;
    const { deps, store } = fakeApiDeps({ now: () => now });
    store.put(failedMachine());
    // The claim is the last thing done in time: the commit comes after the lease's end.
    store.before.claim = () => {
      now = T0 + API_LEASE_SECONDS * 1000;
    };
    expect(await rejection(redriveMachine(deps, 'm-1', {}))).to.be.instanceOf(ConflictError);
    expect(store.calls).not.to.include('commit');
    expect(store.records.get('m-1')?.status).to.equal('FAILED');
  });
});

describe('waking a machine', () => {
  it('claims the waiting step, sends the woken message, then commits it due', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(waitingMachine());
    const record = await wakeMachine(deps, 'm-1');
    expect(store.calls).to.deep.equal(['getWithLease', 'claim', 'commit']);
    expect(record).to.include({ version: 1, attempt: 1, woken: 1, seq: 2 });
    expect(record).not.to.have.property('wakeAt');
    expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 1, attempt: 1, woken: 1 }, delaySeconds: 0 }]);
  });

  it('sends the step of an overdue machine again, writing nothing, and the copy runs it once', async () => {
    const { deps, store, queue } = fakeApiDeps();
    const overdue = machine({ state: 'TASK-1', version: 1, seq: 1, updatedAt: new Date(T0 - 600_000).toISOString() });
    store.put(overdue);
    expect(await wakeMachine(deps, 'm-1')).to.deep.equal(overdue);
    expect(store.calls).to.deep.equal(['getWithLease']);
    expect(queue.sent).to.deep.equal([{ message: stepOf(overdue), delaySeconds: 0 }]);
    // while a handler holds the step it is not overdue: 409
    store.put({ ...overdue, lease: { token: 'processor', until: T0 + 1 } });
    expect(((await rejection(wakeMachine(deps, 'm-1'))) as ConflictError).details).to.deep.equal({
      status: 'RUNNING',
      reason: 'running',
    });
    expect(queue.sent).to.have.length(1);
  });

  it('lets exactly one of two concurrent wakes through', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(waitingMachine());
    const results = await Promise.allSettled([wakeMachine(deps, 'm-1'), wakeMachine(deps, 'm-1')]);
    expect(results.map((r) => r.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).to.be.instanceOf(ConflictError);
    expect(queue.sent).to.have.length(1);
    expect(store.records.get('m-1')?.woken).to.equal(1);
  });

  it('answers 409 when the scheduled message claimed the step first (it became due)', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(waitingMachine());
    store.before.claim = () => {
      store.before.claim = undefined;
      const current = store.records.get('m-1') as MachineRecord;
      store.put({ ...current, lease: { token: 'processor', until: T0 + 60_000 } });
    };
    expect((await rejection(wakeMachine(deps, 'm-1'))).message).to.equal(
      "machine 'm-1' changed while waking it; try again",
    );
    expect(queue.sent).to.deep.equal([]);
  });

  it('answers 409 naming the status for a machine that is not waiting, and 404 for none', async () => {
    const { deps, store } = fakeApiDeps();
    expect(await rejection(wakeMachine(deps, 'm-1'))).to.be.instanceOf(MachineNotFoundError);
    store.put(machine({ status: 'PARKED' }));
    expect(((await rejection(wakeMachine(deps, 'm-1'))) as ConflictError).details).to.deep.equal({
      status: 'PARKED',
    });
  });

  it('runs the woken step once in the processor and drops the scheduled message as stale', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(waitingMachine());
    const scheduled = stepOf(waitingMachine());
    await wakeMachine(deps, 'm-1');
    const invoker = new ScriptedInvoker([{ kind: 'returned', payload: null }]);
    const processStep = createStepProcessor({
      ...deps,
      invoker,
      scope,
      leaseSeconds: 60,
      newToken: () => 'processor',
    });
    const woken = queue.sent[0]?.message;
    if (!woken || !('id' in woken)) throw new Error('no woken message');
    expect(await processStep(woken)).to.equal('committed');
    expect(await processStep(scheduled)).to.equal('dropped:stale');
    expect(await processStep(woken)).to.equal('dropped:stale');
    expect(invoker.calls).to.have.length(1);
    expect(store.records.get('m-1')).to.include({ status: 'SUCCEEDED', version: 2 });
    expect(store.records.get('m-1')).not.to.have.property('woken');
  });
});

describe('the step processor with catch and timeouts', () => {
  it("invokes with the state's timeout and hands a caught failure to the catching state", async () => {
    const { deps, store, queue } = fakeApiDeps();
    const invoker = new ScriptedInvoker([
      { kind: 'failed', message: 'timeout: no answer within the state timeout of 2 s', retryable: true },
      { kind: 'returned', payload: null },
    ]);
    store.put(
      machine({
        state: 'TASK-1',
        attempt: 3,
        catch: { '*': 'FINALIZE' },
        timeouts: { 'TASK-1': 2 },
      }),
    );
    const processStep = createStepProcessor({ ...deps, invoker, scope, leaseSeconds: 60, newToken: () => 't' });
    expect(await processStep({ id: 'm-1', version: 0, attempt: 3 })).to.equal('committed');
    expect(invoker.calls[0]?.options).to.deep.equal({ timeoutMs: 2000 });
    expect(store.records.get('m-1')?.lastEvent).to.include({ outcome: 'caught', from: 'TASK-1', to: 'FINALIZE' });
    const next = queue.sent.at(-1)?.message;
    expect(next).to.deep.equal({ id: 'm-1', version: 1, attempt: 1 });
    expect(await processStep(next as never)).to.equal('committed');
    expect(invoker.calls[1]).not.to.have.property('options');
    expect(invoker.calls[1]?.input.error).to.deep.equal({
      message: 'timeout: no answer within the state timeout of 2 s',
      state: 'TASK-1',
      attempt: 3,
    });
    expect(store.records.get('m-1')?.status).to.equal('SUCCEEDED');
  });

  it('redoes a woken step whose commit was refused, with the woken message', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(waitingMachine({ woken: 1, wakeAt: undefined }));
    const invoker = new ScriptedInvoker([{ kind: 'returned', payload: null }]);
    let now = T0;
    invoker.during = () => {
      now = T0 + 60_000;
    };
    const processStep = createStepProcessor({
      ...deps,
      now: () => now,
      invoker,
      scope,
      leaseSeconds: 60,
      newToken: () => 't',
    });
    const woken = { id: 'm-1', version: 1, attempt: 1, woken: 1 };
    expect(decide(store.records.get('m-1'), woken, contextAt(T0))).to.deep.equal({ action: 'run' });
    expect(await processStep(woken)).to.equal('commit-refused');
    expect(queue.sent).to.deep.equal([{ message: woken, delaySeconds: 0 }]);
  });
});
