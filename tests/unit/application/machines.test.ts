import { expect } from 'chai';
import { ConflictError, MachineNotFoundError, ValidationError } from '../../../domain/errors';
import { parseListQuery } from '../../../domain/listing';
import type { MachineRecord } from '../../../domain/machine';
import { addMachine } from '../../../handlers/application/addMachine';
import { deleteMachine } from '../../../handlers/application/deleteMachine';
import { listMachines } from '../../../handlers/application/listMachines';
import { readMachine, readMachineWithHistory } from '../../../handlers/application/readMachine';
import { redriveMachine } from '../../../handlers/application/redriveMachine';
import { resumeMachine } from '../../../handlers/application/resumeMachine';
import { wakeMachine } from '../../../handlers/application/wakeMachine';
import { definition, machine, T0 } from '../../helpers/factories';
import { fakeApiDeps } from '../../helpers/fakes';
import { rejection } from '../../helpers/rejection';

const parked = (overrides: Partial<MachineRecord> = {}) =>
  machine({ status: 'PARKED', version: 2, state: 'TASK-1', seq: 2, ...overrides });

describe('adding a machine', () => {
  it('creates it at version 0 and sends its first step', async () => {
    const { deps, store, queue } = fakeApiDeps();
    const { created, record } = await addMachine(deps, definition());
    expect(created).to.equal(true);
    expect(record).to.include({ id: 'id-1', status: 'RUNNING', version: 0, state: 'START' });
    expect(store.records.get('id-1')).to.deep.equal(record);
    expect(queue.sent).to.deep.equal([{ message: { id: 'id-1', version: 0, attempt: 1 }, delaySeconds: 0 }]);
  });

  it('takes its name as its id', async () => {
    const { deps } = fakeApiDeps();
    expect((await addMachine(deps, definition({ name: 'order-42' }))).record.id).to.equal('order-42');
  });

  it('deletes what it created when the first step cannot be sent, and reports the error', async () => {
    const { deps, store, queue } = fakeApiDeps();
    queue.failNext = new Error('SQS is down');
    expect((await rejection(addMachine(deps, definition()))).message).to.equal('SQS is down');
    expect(store.records.size).to.equal(0);
  });

  it('answers the existing machine for the same named definition, without sending again once it moved', async () => {
    const { deps, store, queue } = fakeApiDeps();
    const first = await addMachine(deps, definition({ name: 'order-42' }));
    store.put({ ...first.record, version: 1, seq: 1 });
    const again = await addMachine(deps, definition({ name: 'order-42' }));
    expect(again.created).to.equal(false);
    expect(again.record.version).to.equal(1);
    expect(queue.sent).to.have.length(1);
  });

  it('sends the first step again when the same named machine still waits for it (its send may have been lost)', async () => {
    const { deps, queue } = fakeApiDeps();
    await addMachine(deps, definition({ name: 'order-42' }));
    await addMachine(deps, definition({ name: 'order-42' }));
    expect(queue.sent.map((sent) => sent.message)).to.deep.equal([
      { id: 'order-42', version: 0, attempt: 1 },
      { id: 'order-42', version: 0, attempt: 1 },
    ]);
  });

  it('refuses another definition under an existing name', async () => {
    const { deps } = fakeApiDeps();
    await addMachine(deps, definition({ name: 'order-42' }));
    const error = await rejection(addMachine(deps, definition({ name: 'order-42', object: { other: true } })));
    expect(error).to.be.instanceOf(ConflictError);
    expect(error.message).to.equal("a machine named 'order-42' already exists with another definition");
  });

  it('refuses the same named definition while the machine of that name is being removed, sending nothing', async () => {
    const { deps, store, queue } = fakeApiDeps();
    const first = await addMachine(deps, definition({ name: 'order-42' }));
    store.put({ ...first.record, removing: true, lease: { token: 'busy', until: T0 + 1000 } });
    const error = await rejection(addMachine(deps, definition({ name: 'order-42' })));
    expect(error).to.be.instanceOf(ConflictError);
    expect(error.message).to.equal("a machine named 'order-42' is being removed; add it again once it is gone");
    expect((error as ConflictError).details).to.deep.equal({ name: 'order-42', reason: 'removing' });
    expect(queue.sent).to.have.length(1);
  });

  it('reports a conflict when the named machine vanished between the two requests', async () => {
    const { deps, store } = fakeApiDeps();
    await addMachine(deps, definition({ name: 'order-42' }));
    store.before.getWithLease = () => {
      store.records.delete('order-42');
    };
    expect(await rejection(addMachine(deps, definition({ name: 'order-42' })))).to.be.instanceOf(ConflictError);
  });
});

describe('reading machines', () => {
  it('answers 404 for an unknown machine and for one past its retention', async () => {
    const { store } = fakeApiDeps();
    store.put(machine({ id: 'old', expiresAt: T0 / 1000 }));
    expect(await rejection(readMachine(store, 'nope', T0))).to.be.instanceOf(MachineNotFoundError);
    expect(await rejection(readMachine(store, 'old', T0))).to.be.instanceOf(MachineNotFoundError);
  });

  it('gives the history with the latest event, which lives in the record', async () => {
    const { store } = fakeApiDeps();
    const created = store.put(machine());
    await store.writeRecordEvents(created);
    store.put(
      machine({
        seq: 1,
        lastEvent: { seq: 1, outcome: 'transition', at: 'then', version: 1, from: 'START', to: 'TASK-1' },
      }),
    );
    const { events } = await readMachineWithHistory(store, 'm-1', T0);
    expect(events.map((event) => event.outcome)).to.deep.equal(['created', 'transition']);
  });

  it('lists newest first and leaves out machines past their retention', async () => {
    const { store } = fakeApiDeps();
    store.put(machine({ id: 'a', createdAt: '2026-01-01T00:00:01.000Z' }));
    store.put(machine({ id: 'b', createdAt: '2026-01-01T00:00:02.000Z' }));
    store.put(machine({ id: 'c', createdAt: '2026-01-01T00:00:03.000Z', expiresAt: T0 / 1000 }));
    const page = await listMachines(store, parseListQuery({ status: 'RUNNING' }), T0);
    expect(page.items.map((item) => item.id)).to.deep.equal(['b', 'a']);
    expect(page.nextToken).to.equal(undefined);
  });

  it('gives a token for the next page when there is more', async () => {
    const { store } = fakeApiDeps();
    store.put(machine({ id: 'a', createdAt: '2026-01-01T00:00:01.000Z' }));
    store.put(machine({ id: 'b', createdAt: '2026-01-01T00:00:02.000Z' }));
    const first = await listMachines(store, parseListQuery({ status: 'RUNNING', limit: '1' }), T0);
    expect(first.items.map((item) => item.id)).to.deep.equal(['b']);
    const rest = await listMachines(
      store,
      parseListQuery({ status: 'RUNNING', limit: '1', nextToken: first.nextToken as string }),
      T0,
    );
    expect(rest.items.map((item) => item.id)).to.deep.equal(['a']);
  });
});

describe('resuming a machine', () => {
  it('puts a PARKED machine back to RUNNING and sends its step, writing the parked event first', async () => {
    const { deps, store, queue } = fakeApiDeps();
    store.put(parked());
    const resumed = await resumeMachine(deps, 'm-1', { object: { more: 1 } });
    expect(resumed).to.include({ status: 'RUNNING', version: 2, attempt: 1, seq: 3 });
    expect(resumed.object).to.deep.equal({ more: 1 });
    expect(resumed.lease).to.equal(undefined);
    expect(store.records.get('m-1')).to.deep.equal(resumed);
    expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 2, attempt: 1 }, delaySeconds: 0 }]);
    expect(store.calls).to.deep.equal(['getWithLease', 'claim', 'commit']);
  });

  it('answers 404 for an unknown machine', async () => {
    const { deps } = fakeApiDeps();
    expect(await rejection(resumeMachine(deps, 'nope', {}))).to.be.instanceOf(MachineNotFoundError);
  });

  it('answers 409 naming the status for a machine that is not PARKED', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(machine());
    const error = await rejection(resumeMachine(deps, 'm-1', {}));
    expect(error).to.be.instanceOf(ConflictError);
    expect((error as ConflictError).details).to.deep.equal({ status: 'RUNNING' });
  });

  it('answers 400 for a state not in config', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(parked());
    expect(await rejection(resumeMachine(deps, 'm-1', { state: 'NOPE' }))).to.be.instanceOf(ValidationError);
  });

  it('answers 409 "try again" when someone else holds the machine', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(parked({ lease: { token: 'other', until: T0 + 1000 } }));
    const error = await rejection(resumeMachine(deps, 'm-1', {}));
    expect(error.message).to.equal("machine 'm-1' changed while resuming it; try again");
  });

  it('answers 409 "try again" when the machine changed before the commit', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(parked());
    store.before.commit = () => {
      store.put(parked({ seq: 5, version: 3 }));
    };
    const error = await rejection(resumeMachine(deps, 'm-1', {}));
    expect(error).to.be.instanceOf(ConflictError);
  });

  it('deletes the machine and answers 404 when a delete came in while resuming', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(parked());
    store.before.commit = () => {
      (store.records.get('m-1') as MachineRecord).removing = true;
    };
    expect(await rejection(resumeMachine(deps, 'm-1', {}))).to.be.instanceOf(MachineNotFoundError);
    expect(store.records.has('m-1')).to.equal(false);
  });
});

describe('deleting a machine', () => {
  it('deletes it and its history at once when no handler runs', async () => {
    const { deps, store } = fakeApiDeps();
    await store.writeRecordEvents(store.put(machine()));
    expect(await deleteMachine(deps, 'm-1')).to.equal('deleted');
    expect(store.records.has('m-1')).to.equal(false);
    expect(store.events.size).to.equal(0);
  });

  it('marks it removing, with the previous event written first, while a handler runs', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(machine({ lease: { token: 'busy', until: T0 + 1000 } }));
    expect(await deleteMachine(deps, 'm-1')).to.equal('removing');
    expect(store.records.get('m-1')).to.include({ removing: true, seq: 1 });
    expect(store.records.get('m-1')?.lastEvent.outcome).to.equal('removal');
    expect(store.historyOf(machine()).map((event) => event.outcome)).to.deep.equal(['created']);
  });

  it('answers removing again for a machine already marked', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(machine({ removing: true, lease: { token: 'busy', until: T0 + 1000 } }));
    expect(await deleteMachine(deps, 'm-1')).to.equal('removing');
    expect(store.calls).to.deep.equal(['getWithLease']);
  });

  it('answers 404 for an unknown machine, creating nothing', async () => {
    const { deps, store } = fakeApiDeps();
    expect(await rejection(deleteMachine(deps, 'nope'))).to.be.instanceOf(MachineNotFoundError);
    expect(store.records.size).to.equal(0);
  });

  it('answers 409 "try again" after losing every race on a machine that exists', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(machine());
    // A handler starts between each read and the conditional delete.
    store.before.claim = () => {
      store.put({ ...(store.records.get('m-1') as MachineRecord), lease: { token: 'busy', until: T0 + 1000 } });
    };
    store.before.getWithLease = () => {
      store.leases.clear();
    };
    const error = await rejection(deleteMachine(deps, 'm-1'));
    expect(error).to.be.instanceOf(ConflictError);
    expect(error.message).to.equal("machine 'm-1' kept changing while deleting it; try again");
    expect(store.calls.filter((call) => call === 'getWithLease')).to.have.length(5);
  });

  it('deletes it when a second delete marked it for the first one, which held it', async () => {
    const { deps, store } = fakeApiDeps({ newId: () => 'first-delete' });
    store.put(machine({ status: 'PARKED' }));
    // The second delete comes in while the first holds the step: it finds our lease and marks.
    store.before.deleteRecord = async () => {
      store.before.deleteRecord = undefined;
      expect(await deleteMachine({ ...deps, newId: () => 'second-delete' }, 'm-1')).to.equal('removing');
    };
    expect(await deleteMachine(deps, 'm-1')).to.equal('deleted');
    expect(store.records.has('m-1')).to.equal(false);
    expect(store.events.size).to.equal(0);
  });

  describe('when the machine it claimed is gone before the delete', () => {
    const again = new Date(T0 + 1).toISOString();
    const handler = { token: 'handler', until: T0 + 1000 };
    /** Between our claim and our delete, the machine is deleted (and maybe added again under its name). */
    function replacedBeforeDelete(store: ReturnType<typeof fakeApiDeps>['store'], next?: MachineRecord) {
      store.before.deleteRecord = () => {
        store.before.deleteRecord = undefined;
        store.records.delete('m-1');
        if (next) store.put(next);
      };
    }

    it('marks the machine added again under its name, whose step a handler runs, for that handler', async () => {
      const { deps, store } = fakeApiDeps();
      store.put(machine());
      replacedBeforeDelete(store, machine({ createdAt: again, lease: handler }));
      expect(await deleteMachine(deps, 'm-1')).to.equal('removing');
      expect(store.records.get('m-1')).to.include({ createdAt: again, removing: true });
    });

    it('leaves one another delete marked for its handler to that handler', async () => {
      const { deps, store } = fakeApiDeps();
      store.put(machine());
      replacedBeforeDelete(store, machine({ createdAt: again, removing: true, lease: handler }));
      expect(await deleteMachine(deps, 'm-1')).to.equal('removing');
      expect(store.records.get('m-1')).to.deep.include({ createdAt: again, removing: true, lease: handler });
    });

    it('answers 404 when nothing was added again', async () => {
      const { deps, store } = fakeApiDeps();
      store.put(machine());
      replacedBeforeDelete(store);
      expect(await rejection(deleteMachine(deps, 'm-1'))).to.be.instanceOf(MachineNotFoundError);
    });
  });

  it("marks a chain's record in place, with no seq to lose to the chain's next commit", async () => {
    const { deps, store } = fakeApiDeps();
    const chain = { token: 'chain', until: T0 + 60_000 };
    store.records.set('m-1', machine({ seq: 3, carrier: { version: 0, attempt: 1 }, lease: chain }));
    expect(await deleteMachine(deps, 'm-1')).to.equal('removing');
    expect(store.calls).to.deep.equal(['getWithLease', 'markRemoving']);
    expect(store.records.get('m-1')).to.deep.include({ seq: 3, removing: true, lease: chain });
  });

  it("puts the mark as for any holder when a chain's lease in the record has ended and another holds the step", async () => {
    const { deps, store } = fakeApiDeps();
    const ended = { token: 'chain', until: T0 };
    store.records.set('m-1', machine({ seq: 3, carrier: { version: 0, attempt: 1 }, lease: ended }));
    const takenOver = { token: 'takeover', until: T0 + 60_000 };
    await store.claim(store.records.get('m-1') as MachineRecord, takenOver, T0);
    expect(await deleteMachine(deps, 'm-1')).to.equal('removing');
    expect(store.calls.slice(-3)).to.deep.equal(['markRemoving', 'writeRecordEvents', 'commit']);
    expect(store.records.get('m-1')).to.deep.include({ seq: 4, removing: true, lease: takenOver });
  });

  it('reads again when its mark loses a race, and then finds the machine idle', async () => {
    const { deps, store } = fakeApiDeps();
    store.put(machine({ lease: { token: 'busy', until: T0 + 1000 } }));
    let marks = 0;
    store.before.commit = () => {
      if (++marks === 1) {
        const { lease: _ended, ...record } = store.records.get('m-1') as MachineRecord;
        store.put({ ...record, seq: 1 });
      }
    };
    expect(await deleteMachine(deps, 'm-1')).to.equal('deleted');
  });
});

describe('who did what: the API events name the caller', () => {
  const CALLER = 'arn:aws:iam::123456789012:role/ops';

  it('records `by` on created, removal, resumed, redriven and woken, and leaves it out with no caller', async () => {
    const { deps, store } = fakeApiDeps();
    const { record: added } = await addMachine(deps, definition(), CALLER);
    expect(added.lastEvent).to.include({ outcome: 'created', by: CALLER });

    store.put(parked());
    expect((await resumeMachine(deps, 'm-1', {}, CALLER)).lastEvent).to.include({ outcome: 'resumed', by: CALLER });

    store.put(machine({ state: 'TASK-1', version: 1, seq: 1, wakeAt: new Date(T0 + 600_000).toISOString() }));
    expect((await wakeMachine(deps, 'm-1', CALLER)).lastEvent).to.include({ outcome: 'woken', by: CALLER });

    store.put(machine({ status: 'FAILED', version: 3, seq: 3 }));
    expect((await redriveMachine(deps, 'm-1', {}, CALLER)).lastEvent).to.include({ outcome: 'redriven', by: CALLER });

    store.put(machine({ lease: { token: 'handler', until: T0 + 60_000 } }));
    expect(await deleteMachine(deps, 'm-1', CALLER)).to.equal('removing');
    expect(store.records.get('m-1')?.lastEvent).to.include({ outcome: 'removal', by: CALLER });

    const { record: open } = await addMachine(deps, definition());
    expect(open.lastEvent).not.to.have.property('by');
  });
});
