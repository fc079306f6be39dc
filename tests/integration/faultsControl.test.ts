import { expect } from 'chai';
import { dueAt, type MachineRecord } from '../../domain/machine';
import { deleteMachine } from '../../handlers/application/deleteMachine';
import { redriveMachine } from '../../handlers/application/redriveMachine';
import { overdueCandidates, resendIfOverdue } from '../../handlers/application/sweepOverdue';
import { wakeMachine } from '../../handlers/application/wakeMachine';
import { exampleWorkflow, waitFor } from '../helpers/api';
import { crashOncePerStep, FaultRig } from '../helpers/faultRig';
import { audit, faultSuite, WORKFLOW_EVENTS } from '../helpers/faultTable';

// The fault suite's second file (see faults.test.ts): delays, recovery and control, and scale.
describe('fault suite: delays, recovery and control, at scale', function () {
  this.timeout(120_000);
  let rig: FaultRig;
  const record = faultSuite((fresh) => {
    rig = fresh;
  });
  describe('long delays', () => {
    it('chains re-sends of at most the queue delay cap until wakeAt', async () => {
      const chained = await FaultRig.create({ maxQueueDelaySeconds: 1 });
      try {
        const id = await chained.add({
          state: 'START',
          config: { START: 'prepare', 'TASK-1': 'flaky' },
          // 5 s of 1 s hops: 4 waits when on time, so "at least 2" still holds on a loaded machine.
          object: { delay: 5 },
        });
        const started = Date.now();
        const stats = await chained.drive({ until: () => chained.allFinished([id]) });
        expect(Date.now() - started).to.be.at.least(5000);
        expect(stats.outcomes.waiting).to.be.at.least(2);
        const events = await chained.history(id);
        expect(events.map((e) => e.outcome)).to.deep.equal(['created', 'transition', 'succeeded']);
        expect(events[1]?.delay).to.equal(5);
        expect((await chained.get(id))?.version).to.equal(2);
      } finally {
        await chained.dispose();
      }
    });
  });

  describe('recovery and control', () => {
    const once = { retry: { maxAttempts: 1, backoffSeconds: 0, backoffRate: 1 } };
    const twice = { retry: { maxAttempts: 2, backoffSeconds: 0, backoffRate: 1 } };
    /** Settles every call; counts the ones that went through. */
    const succeeded = async (calls: Promise<unknown>[]) =>
      (await Promise.allSettled(calls)).filter((r) => r.status === 'fulfilled').length;

    async function failedMachines(count: number): Promise<string[]> {
      const ids = await Promise.all(
        Array.from({ length: count }, () =>
          rig.add({ state: 'S', config: { S: 'flaky' }, object: { failTimes: 1 }, options: once }),
        ),
      );
      await rig.drive({ until: () => rig.allFinished(ids) });
      for (const id of ids) expect((await rig.get(id))?.status).to.equal('FAILED');
      return ids;
    }

    it('redrives each FAILED machine once when the redrive is asked 3 times at once and every message comes 3 times', async () => {
      const ids = await failedMachines(5);
      const redrives = await Promise.all(
        ids.map((id) => succeeded(Array.from({ length: 3 }, () => redriveMachine(rig.services, id, { object: {} })))),
      );
      expect(redrives).to.deep.equal(ids.map(() => 1));
      const stats = await rig.drive({ duplicates: 2, until: () => rig.settled(ids) });
      const counts = await audit(rig, ids, {
        status: 'SUCCEEDED',
        version: 3,
        events: ['created', 'failed', 'redriven', 'succeeded'],
      });
      record('redrive x3 at once, messages x3', ids.length, '3 concurrent redrives + 2 extra copies', stats, counts);
    });

    it('leaves nothing behind when a delete races a redrive', async () => {
      const ids = await failedMachines(6);
      const owners = (await Promise.all(ids.map((id) => rig.get(id)))) as MachineRecord[];
      // Half asked delete-then-redrive, half the other way round, all at the same moment.
      await Promise.all(
        ids.map((id, i) => {
          const both = [() => redriveMachine(rig.services, id, { object: {} }), () => deleteMachine(rig.services, id)];
          return Promise.allSettled((i % 2 ? both.reverse() : both).map((call) => call()));
        }),
      );
      const gone = async () => (await Promise.all(ids.map((id) => rig.get(id)))).every((r) => r === undefined);
      const stats = await rig.drive({ duplicates: 1, until: gone });
      // Steps of a redriven machine still in the queue find nothing and are dropped.
      await new Promise((resolve) => setTimeout(resolve, 500));
      let left = 0;
      for (const owner of owners) {
        left += (await rig.storedHistory(owner)).length + ((await rig.get(owner.id)) ? 1 : 0);
      }
      expect(left).to.equal(0);
      record('redrive racing delete', ids.length, 'redrive and delete at once', stats, { lost: 0, doubled: left });
    });

    it('runs a waiting step once when two wakes race each other and the scheduled message, every message 3 times', async () => {
      const ids = await Promise.all(
        Array.from({ length: 6 }, () =>
          rig.add({ state: 'START', config: { START: 'prepare', 'TASK-1': 'flaky' }, object: { delay: 5 } }),
        ),
      );
      const woken = new Map<string, number>();
      const wakeAround = async (id: string, i: number) => {
        const waiting = await waitFor(
          () => rig.get(id),
          (r) => r?.wakeAt !== undefined,
          { what: `${id} to wait` },
        );
        // Early for some machines (the wake wins, even when this process sees the wait seconds
        // late on a loaded machine), right at wakeAt for the others (a real race).
        const at = Date.parse(waiting?.wakeAt as string) - (i % 2 ? 3500 : 30 * (i % 3));
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
        // A wake that finds the step already due sends its message again instead: no commit, no event.
        const wakes = await Promise.allSettled([wakeMachine(rig.services, id), wakeMachine(rig.services, id)]);
        woken.set(id, wakes.filter((w) => w.status === 'fulfilled' && w.value.seq !== waiting?.seq).length);
      };
      const [stats] = await Promise.all([
        rig.drive({ duplicates: 2, workers: 2, until: () => rig.settled(ids) }),
        ...ids.map(wakeAround),
      ]);
      let counts = { lost: 0, doubled: 0 };
      for (const id of ids) {
        const wakes = woken.get(id) ?? 0;
        expect(wakes, id).to.be.at.most(1);
        const events = wakes ? ['created', 'transition', 'woken', 'succeeded'] : ['created', 'transition', 'succeeded'];
        const one = await audit(rig, [id], { status: 'SUCCEEDED', version: 2, events });
        counts = { lost: counts.lost + one.lost, doubled: counts.doubled + one.doubled };
        expect(rig.invocations.get(`${id}:1`), id).to.equal(1);
      }
      const wakes = [...woken.values()].reduce((a, b) => a + b, 0);
      expect(wakes).to.be.at.least(ids.length / 2);
      const injected = `2 wakes near wakeAt (${wakes} went through) + 2 extra copies`;
      record('wake x2 racing the scheduled step', ids.length, injected, stats, counts);
    });

    it('recovers a lost step message by the sweeper within its threshold, committing each step once', async () => {
      const ids = await Promise.all(Array.from({ length: 4 }, () => rig.add(exampleWorkflow({ delay: 1 }))));
      const mine = new Set(ids);
      const graceMs = 2000;
      const periodMs = 500;
      // The first message of each machine's second step is deleted unprocessed, as a purge would.
      const lostAt = new Map<string, number>();
      const processor = rig.processor();
      const losing = async (message: Parameters<typeof processor>[0]) => {
        if (message.version !== 1 || lostAt.has(message.id)) return processor(message);
        lostAt.set(message.id, dueAt((await rig.get(message.id)) as MachineRecord));
        return 'dropped:stale' as const;
      };
      // The sweeper's two halves, on this rig's queue and machines alone (the table is shared).
      const resentAt = new Map<string, number>();
      let sweeping = true;
      const sweeper = async () => {
        while (sweeping) {
          for (const id of await overdueCandidates(rig.services.store, Date.now(), graceMs)) {
            if (mine.has(id) && (await resendIfOverdue(rig.services, id, graceMs))) resentAt.set(id, Date.now());
          }
          await new Promise((resolve) => setTimeout(resolve, periodMs));
        }
      };
      const swept = sweeper();
      const stats = await rig.drive({ processors: [losing], until: () => rig.allFinished(ids) }).finally(() => {
        sweeping = false;
      });
      await swept;
      const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
      for (const id of ids) {
        expect([0, 1, 2, 3].map((version) => rig.invocations.get(`${id}:${version}`))).to.deep.equal([1, 1, 1, 1]);
        const late = (resentAt.get(id) ?? Number.POSITIVE_INFINITY) - (lostAt.get(id) as number);
        // Never before the threshold; found by one of the first sweeps after it (a loaded CI machine
        // took 2.2 s longer than one period: the bound says "soon", not how fast this machine is).
        expect(late, `${id} re-sent ${late} ms after it was due`).to.be.within(graceMs, graceMs + periodMs + 6000);
      }
      record('lost step message, swept', ids.length, '1 message deleted per machine', stats, counts);
    });

    it('commits a caught failure once when the processor crashes after sending the catching step', async () => {
      const ids = await Promise.all(
        Array.from({ length: 3 }, () =>
          rig.add({
            state: 'S',
            config: { S: 'always-fails', FIX: 'recover', END: 'finalize' },
            object: { next: 'END' },
            catch: { S: 'FIX' },
            options: twice,
          }),
        ),
      );
      const crashing = rig.processor({ afterSend: crashOncePerStep() }, { runOn: false });
      const stats = await rig.drive({ processors: [crashing], until: () => rig.allFinished(ids) });
      const counts = await audit(rig, ids, {
        status: 'SUCCEEDED',
        version: 3,
        events: ['created', 'retry', 'caught', 'transition', 'succeeded'],
      });
      // retry, caught and transition each send, so each crashed once.
      expect(stats.crashes).to.equal(ids.length * 3);
      const caught = (await rig.history(ids[0] as string))[2];
      expect(caught).to.include({ outcome: 'caught', from: 'S', to: 'FIX', attempt: 2 });
      record('catch, crash after send', ids.length, '1 crash per step', stats, counts);
    });

    it('commits each step of a machine-wide catch once when every message comes 3 times', async () => {
      const ids = await Promise.all(
        Array.from({ length: 3 }, () =>
          rig.add({
            state: 'S',
            config: { S: 'garbage', FIX: 'recover', END: 'finalize' },
            object: { next: 'END' },
            catch: { '*': 'FIX' },
          }),
        ),
      );
      const stats = await rig.drive({ duplicates: 2, until: () => rig.settled(ids) });
      const counts = await audit(rig, ids, {
        status: 'SUCCEEDED',
        version: 3,
        events: ['created', 'caught', 'transition', 'succeeded'],
      });
      record('catch *, messages x3', ids.length, '2 extra copies of each message', stats, counts);
    });

    it("retries, then fails, a handler that runs past its state's timeout", async () => {
      const id = await rig.add({
        state: 'S',
        config: { S: 'sleepy' },
        object: { sleepMs: 1500 },
        timeouts: { S: 1 },
        options: twice,
      });
      const stats = await rig.drive({ until: () => rig.allFinished([id]) });
      const counts = await audit(rig, [id], { status: 'FAILED', version: 1, events: ['created', 'retry', 'failed'] });
      expect((await rig.get(id))?.error?.message).to.equal("timeout: no answer within the state's timeout of 1 s");
      record('past its state timeout (1 s)', 1, '2 aborted invokes', stats, counts);
    });
  });

  describe('at scale', () => {
    it('runs 200 machines through the 5-state workflow with every message delivered twice', async () => {
      // A production-like lease: under this load one invoke can take longer than the 3 s rig lease.
      const scaled = await FaultRig.create({ leaseSeconds: 20 });
      try {
        const ids = await Promise.all(Array.from({ length: 200 }, () => scaled.add(exampleWorkflow())));
        const stats = await scaled.drive({
          duplicates: 1,
          workers: 4,
          timeoutMs: 110_000,
          until: () => scaled.settled(ids),
        });
        const counts = await audit(scaled, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
        expect(counts).to.deep.equal({ lost: 0, doubled: 0 });
        expect(scaled.committedSteps()).to.equal(800);
        record('200 machines, duplicates', ids.length, '1 extra copy of each message', stats, counts);
      } finally {
        await scaled.dispose();
      }
    });
  });
});
