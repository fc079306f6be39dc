import { expect } from 'chai';
import type { MachineRecord } from '../../domain/machine';
import { DynamoMachineStore } from '../../handlers/adapters/dynamodb/machineStore';
import type { MachineStore } from '../../handlers/application/ports';
import { type LocalTables, startLocalTables } from '../helpers/dynalite';
import { machine, T0 } from '../helpers/factories';
import { InMemoryMachineStore } from '../helpers/fakes';

/**
 * The lease of a step lives on the history item of the record's `seq`, apart from the record
 * (docs/design.md#lease). Every rule the protocol relies on, checked against DynamoDB's own
 * condition evaluation (dynalite) and against the in-memory fake the unit tests use, which must
 * answer the same.
 */
const LIVE = { token: 'first', until: T0 + 60_000 };
const AFTER_LIVE = LIVE.until;

function stores(): { name: string; start: () => Promise<{ store: MachineStore; stop: () => Promise<void> }> }[] {
  return [
    {
      name: 'DynamoDB (dynalite)',
      start: async () => {
        const local: LocalTables = await startLocalTables();
        return { store: new DynamoMachineStore(local.client, local.tables), stop: () => local.stop() };
      },
    },
    { name: 'the in-memory fake', start: async () => ({ store: new InMemoryMachineStore(), stop: async () => {} }) },
  ];
}

for (const { name, start } of stores()) {
  describe(`the lease of a step, in ${name}`, function () {
    this.timeout(30_000);
    let store: MachineStore;
    let stop: () => Promise<void>;
    let ids = 0;

    before(async () => {
      ({ store, stop } = await start());
    });
    after(() => stop());

    /** A new machine, stored as add stores it (seq 0, its `created` event in the record only). */
    async function created(overrides: Partial<MachineRecord> = {}): Promise<MachineRecord> {
      const record = machine({ id: `lease-${++ids}`, ...overrides });
      expect(await store.create(record)).to.equal(true);
      return record;
    }

    it('claims a free step, writing its event to the history, and shows the lease on get() only', async () => {
      const record = await created();
      expect(await store.claim(record, LIVE, T0)).to.equal(true);
      expect((await store.get(record.id))?.lease).to.deep.equal(LIVE);
      expect(await store.getRecord(record.id)).not.to.have.property('lease');
      expect((await store.history(record, { limit: 10 })).events).to.deep.equal([record.lastEvent]);
    });

    it('refuses a second claim while the lease lives, and lets it be taken over once it has ended', async () => {
      const record = await created();
      expect(await store.claim(record, LIVE, T0)).to.equal(true);
      expect(await store.claim(record, { token: 'second', until: T0 + 120_000 }, AFTER_LIVE - 1)).to.equal(false);
      expect((await store.get(record.id))?.lease?.token).to.equal('first');
      expect(await store.claim(record, { token: 'second', until: T0 + 120_000 }, AFTER_LIVE)).to.equal(true);
      expect((await store.get(record.id))?.lease?.token).to.equal('second');
    });

    it('releases only with the token that holds the step', async () => {
      const record = await created();
      await store.claim(record, LIVE, T0);
      await store.releaseClaim(record, 'someone-else');
      expect((await store.get(record.id))?.lease).to.deep.equal(LIVE);
      await store.releaseClaim(record, LIVE.token);
      expect(await store.get(record.id)).not.to.have.property('lease');
      expect(await store.claim(record, { token: 'next', until: T0 + 1 }, T0)).to.equal(true);
    });

    it('writes an unclaimed event without dropping a lease that holds its step', async () => {
      const record = await created();
      await store.claim(record, LIVE, T0);
      await store.writeLatestEvent(record);
      expect((await store.get(record.id))?.lease).to.deep.equal(LIVE);
      expect((await store.history(record, { limit: 10 })).events).to.deep.equal([record.lastEvent]);
      const other = await created();
      await store.writeLatestEvent(other);
      expect(await store.claim(other, LIVE, T0)).to.equal(true);
    });

    it('commits only over the seq it read, and the next step starts free', async () => {
      const record = await created();
      await store.claim(record, LIVE, T0);
      const next: MachineRecord = {
        ...record,
        state: 'NEXT',
        seq: 1,
        lastEvent: { ...record.lastEvent, seq: 1, outcome: 'transition' },
      };
      expect(await store.commit(next, { seq: 1 })).to.equal(false);
      // A machine added again under the name has another createdAt: never committed over.
      expect(await store.commit({ ...next, createdAt: '2026-01-02T00:00:00.000Z' }, { seq: 0 })).to.equal(false);
      expect(await store.commit(next, { seq: 0 })).to.equal(true);
      expect(await store.commit({ ...next, state: 'AGAIN' }, { seq: 0 })).to.equal(false);
      expect(await store.get(record.id)).to.deep.equal(next);
      expect(await store.claim(next, { token: 'next', until: T0 + 1 }, T0)).to.equal(true);
      // The step left behind keeps its lease: a claim of the old step still fails.
      expect(await store.claim(record, { token: 'late', until: T0 + 1 }, T0)).to.equal(false);
    });

    it('refuses every commit over a removal mark, which keeps the lease it was marked under', async () => {
      const record = await created();
      await store.claim(record, LIVE, T0);
      const read = (await store.get(record.id)) as MachineRecord;
      const mark: MachineRecord = { ...read, removing: true, seq: 1, lastEvent: { ...read.lastEvent, seq: 1 } };
      expect(await store.commit(mark, { seq: 0 })).to.equal(true);
      expect((await store.get(record.id))?.lease).to.deep.equal(LIVE);
      expect((await store.getRecord(record.id))?.lease).to.deep.equal(LIVE);
      expect(await store.commit({ ...mark, seq: 2 }, { seq: 1 })).to.equal(false);
    });

    it('deletes a record only as it was read: the same seq of the same machine', async () => {
      const record = await created();
      expect(await store.deleteRecord({ ...record, seq: 1 })).to.equal(false);
      expect(await store.deleteRecord({ ...record, createdAt: new Date(T0 - 1).toISOString() })).to.equal(false);
      expect(await store.deleteRecord(record)).to.equal(true);
      expect(await store.get(record.id)).to.equal(undefined);
      expect(await store.deleteRecord(record)).to.equal(false);
    });
  });
}
