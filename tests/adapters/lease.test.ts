import { expect } from 'chai';
import { historyPage, type MachineRecord } from '../../domain/machine';
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
      expect((await store.getWithLease(record.id))?.lease).to.deep.equal(LIVE);
      expect(await store.getRecordOnly(record.id)).not.to.have.property('lease');
      expect((await store.history(record, { limit: 10 })).events).to.deep.equal([record.lastEvent]);
    });

    it('refuses a second claim while the lease lives, and lets it be taken over once it has ended', async () => {
      const record = await created();
      expect(await store.claim(record, LIVE, T0)).to.equal(true);
      expect(await store.claim(record, { token: 'second', until: T0 + 120_000 }, AFTER_LIVE - 1)).to.equal(false);
      expect((await store.getWithLease(record.id))?.lease?.token).to.equal('first');
      expect(await store.claim(record, { token: 'second', until: T0 + 120_000 }, AFTER_LIVE)).to.equal(true);
      expect((await store.getWithLease(record.id))?.lease?.token).to.equal('second');
    });

    it('releases only with the token that holds the step', async () => {
      const record = await created();
      await store.claim(record, LIVE, T0);
      await store.releaseClaim(record, 'someone-else');
      expect((await store.getWithLease(record.id))?.lease).to.deep.equal(LIVE);
      await store.releaseClaim(record, LIVE.token);
      expect((await store.getWithLease(record.id))?.lease).to.deep.equal({ token: LIVE.token, until: 0 });
      expect(await store.claim(record, { token: 'next', until: T0 + 1 }, T0)).to.equal(true);
    });

    it('writes an unclaimed event without dropping a lease that holds its step', async () => {
      const record = await created();
      await store.claim(record, LIVE, T0);
      await store.writeRecordEvents(record);
      expect((await store.getWithLease(record.id))?.lease).to.deep.equal(LIVE);
      expect((await store.history(record, { limit: 10 })).events).to.deep.equal([record.lastEvent]);
      const other = await created();
      await store.writeRecordEvents(other);
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
      expect(await store.getWithLease(record.id)).to.deep.equal(next);
      expect(await store.claim(next, { token: 'next', until: T0 + 1 }, T0)).to.equal(true);
      // The step left behind keeps its lease: a claim of the old step still fails.
      expect(await store.claim(record, { token: 'late', until: T0 + 1 }, T0)).to.equal(false);
    });

    it('refuses every commit over a removal mark, which keeps the lease it was marked under', async () => {
      const record = await created();
      await store.claim(record, LIVE, T0);
      const read = (await store.getWithLease(record.id)) as MachineRecord;
      const mark: MachineRecord = { ...read, removing: true, seq: 1, lastEvent: { ...read.lastEvent, seq: 1 } };
      expect(await store.commit(mark, { seq: 0 })).to.equal(true);
      expect((await store.getWithLease(record.id))?.lease).to.deep.equal(LIVE);
      expect((await store.getRecordOnly(record.id))?.lease).to.deep.equal(LIVE);
      expect(await store.commit({ ...mark, seq: 2 }, { seq: 1 })).to.equal(false);
    });

    /** The record a chain commits over `record`: the next step held by `lease`, its events pending. */
    function chained(record: MachineRecord, lease = LIVE): MachineRecord {
      const seq = record.seq + 1;
      return {
        ...record,
        seq,
        lease,
        carrier: { version: 0, attempt: 1 },
        pendingEvents: [record.lastEvent],
        lastEvent: { ...record.lastEvent, seq, outcome: 'transition' },
      };
    }

    it("holds a step with the lease a chain's commit put in the record, until it ends", async () => {
      const record = await created();
      await store.claim(record, { token: 'chain', until: T0 + 1 }, T0);
      const next = chained(record);
      expect(await store.commit(next, { seq: 0 })).to.equal(true);
      expect((await store.getRecordOnly(record.id))?.lease).to.deep.equal(LIVE);
      expect((await store.getWithLease(record.id))?.lease).to.deep.equal(LIVE);
      const read = (await store.getRecordOnly(record.id)) as MachineRecord;
      expect(await store.claim(read, { token: 'second', until: T0 + 120_000 }, AFTER_LIVE - 1)).to.equal(false);
      expect(await store.claim(read, { token: 'second', until: T0 + 120_000 }, AFTER_LIVE)).to.equal(true);
      expect((await store.getWithLease(record.id))?.lease?.token).to.equal('second');
      // Taken over: the chain's late release leaves the new holder's lease alone.
      await store.releaseClaim(next, LIVE.token);
      expect((await store.getWithLease(record.id))?.lease?.token).to.equal('second');
      expect((await store.history(record, { limit: 10 })).events).to.deep.equal([record.lastEvent, next.lastEvent]);
    });

    it("gives up a lease in the record on the step's history item, with the events the record holds", async () => {
      const record = await created();
      const next = chained(record);
      expect(await store.commit(next, { seq: 0 })).to.equal(true);
      await store.releaseClaim(next, 'someone-else');
      expect((await store.getWithLease(record.id))?.lease).to.deep.equal(LIVE);
      await store.releaseClaim(next, LIVE.token);
      const read = (await store.getWithLease(record.id)) as MachineRecord;
      expect(read.lease?.until).to.be.at.most(T0);
      expect(await store.claim(read, { token: 'next', until: T0 + 1 }, T0)).to.equal(true);
      expect((await store.history(record, { limit: 10 })).events).to.deep.equal([record.lastEvent, next.lastEvent]);
    });

    it("marks a chain's record removing in place, at whatever step it reached, only while its lease in the record lives", async () => {
      const record = await created();
      const first = chained(record);
      expect(await store.commit(first, { seq: 0 })).to.equal(true);
      const further = chained(first, { token: 'further', until: T0 + 60_000 });
      expect(await store.commit(further, { seq: 1 })).to.equal(true);
      // Read at seq 1; the chain is at seq 2 now.
      expect(await store.markRemoving({ ...first, createdAt: new Date(T0 - 1).toISOString() }, T0)).to.equal(false);
      expect(await store.markRemoving(first, AFTER_LIVE)).to.equal(false);
      expect(await store.markRemoving(first, T0)).to.equal(true);
      const marked = (await store.getRecordOnly(record.id)) as MachineRecord;
      expect(marked).to.deep.include({ seq: 2, removing: true, lease: further.lease });
      expect(await store.markRemoving(first, T0)).to.equal(false);
      // The chain's next commit is refused.
      expect(await store.commit(chained(further), { seq: 2 })).to.equal(false);
      // A step held on its history item has no lease in the record: no mark in place.
      const claimed = await created();
      await store.claim(claimed, LIVE, T0);
      expect(await store.markRemoving(claimed, T0)).to.equal(false);
    });

    it('writes the events a record holds as one item, read back in order and after a given seq', async () => {
      const record = await created();
      const second = chained(record);
      const third = chained(second);
      expect(third.pendingEvents).to.deep.equal([second.lastEvent]);
      const holding = { ...third, pendingEvents: [record.lastEvent, second.lastEvent] };
      await store.writeRecordEvents(holding);
      const events = [record.lastEvent, second.lastEvent, third.lastEvent];
      expect((await store.history(record, { limit: 10 })).events).to.deep.equal(events);
      expect((await store.history(record, { after: 0, limit: 10 })).events).to.deep.equal(events.slice(1));
    });

    it('pages a history whose items hold several events, some also in another item or in the record, each once', async () => {
      const record = await created();
      const first = chained(record);
      const second = chained(first);
      await store.writeRecordEvents(record);
      // Written by a chain whose first event a delete's write had copied already.
      await store.writeRecordEvents({ ...second, pendingEvents: [record.lastEvent, first.lastEvent] });
      const third = chained(second);
      const current = { ...chained(third), pendingEvents: [third.lastEvent] };
      for (const limit of [1, 2, 10]) {
        const seen: number[] = [];
        let after: number | undefined;
        do {
          const page = historyPage(current, await store.history(record, { after, limit }), { after, limit });
          seen.push(...page.events.map((event) => event.seq));
          after = page.next;
        } while (after !== undefined);
        expect(seen, `pages of ${limit}`).to.deep.equal([0, 1, 2, 3, 4]);
      }
    });

    it('deletes a record only as it was read: the same seq of the same machine', async () => {
      const record = await created();
      expect(await store.deleteRecord({ ...record, seq: 1 })).to.equal(false);
      expect(await store.deleteRecord({ ...record, createdAt: new Date(T0 - 1).toISOString() })).to.equal(false);
      expect(await store.deleteRecord(record)).to.equal(true);
      expect(await store.getWithLease(record.id)).to.equal(undefined);
      expect(await store.deleteRecord(record)).to.equal(false);
    });
  });
}
