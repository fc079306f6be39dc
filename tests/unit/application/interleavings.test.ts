import { expect } from 'chai';
import { ConflictError } from '../../../domain/errors';
import type { MachineRecord, PurgeMessage, StepMessage } from '../../../domain/machine';
import type { InvocationResult } from '../../../domain/step';
import { deleteMachine } from '../../../handlers/application/deleteMachine';
import type { MachineStore, StateInvoker, StepQueue } from '../../../handlers/application/ports';
import { purgeHistory } from '../../../handlers/application/removeMachine';
import { machine, T0 } from '../../helpers/factories';
import { fakeStepProcessor, InMemoryMachineStore } from '../../helpers/fakes';
import { fullHistory } from '../../helpers/history';
import { seeded, yieldSometimes } from '../../helpers/seeded';

/**
 * Many seeded runs of one machine through three processors at once, with what SQS and Lambda do
 * to them: copies of messages, some delivered to two processors at the same moment, crashes
 * after a send or a commit (the message comes back after its visibility timeout), throttled
 * invokes, invocations without time to run on, and store calls that yield in random places so
 * the processors interleave. Whatever happens, each step is committed once, every event of the
 * machine is in its history once, and a delete leaves nothing, with no handler started after
 * its 204 (docs/design.md#invariants-and-exactly-once).
 */
const STEPS = 8;
/** Short, so a crashed holder's step is taken over after a few deferrals of a second each. */
const LEASE_SECONDS = 5;
const VISIBILITY_MS = 360_000;
const SEEDS = 60;

type Delivery = { message: StepMessage | PurgeMessage; at: number } | { remove: true; at: number };

async function simulate(seed: number, { withDelete }: { withDelete: boolean }) {
  const random = seeded(seed);
  const chance = (p: number) => random() < p;
  const clock = { now: T0 };
  const log: string[] = [];
  const committed: string[] = [];
  const pending: Delivery[] = [];
  const pause = yieldSometimes(random);

  const store = new InMemoryMachineStore();
  store.put(machine({ config: { START: 'prepare', 'TASK-1': 'task-1' } }));
  for (const method of [
    'getWithLease',
    'getRecordOnly',
    'claim',
    'releaseClaim',
    'commit',
    'writeRecordEvents',
    'markRemoving',
    'deleteRecord',
    'purgeHistory',
  ] as (keyof MachineStore)[]) {
    store.before[method] = pause;
  }
  const commit = store.commit.bind(store);
  store.commit = async (next, guard) => {
    const landed = await commit(next, guard);
    if (landed && !next.removing) committed.push(`${next.version}.${next.attempt}.${next.woken ?? 0}`);
    return landed;
  };

  // SQS: at least once (a copy of a message sent for now, now and then), each when its delay is over.
  const queue: StepQueue = {
    async send({ message, delaySeconds }) {
      const at = clock.now + delaySeconds * 1000;
      pending.push({ message, at });
      if (delaySeconds === 0 && chance(0.15)) pending.push({ message, at: at + Math.floor(random() * 2_000) });
    },
  };
  // A step runs in one place at a time: a second invoke of a version while one runs is a lease broken.
  const running = new Set<number>();
  const invoker: StateInvoker = {
    async invoke(_name, input): Promise<InvocationResult> {
      const { version } = input as { version: number };
      log.push(running.has(version) ? `invoke ${version} while it runs` : `invoke ${version}`);
      running.add(version);
      await pause();
      running.delete(version);
      if (chance(0.08)) return { kind: 'throttled', message: 'Rate exceeded' };
      return { kind: 'returned', payload: version + 1 < STEPS ? { state: 'TASK-1', delay: 0 } : null };
    },
  };
  const crash = (where: string) => () => {
    if (chance(0.05)) throw new Error(`crash ${where}`);
  };
  const processors = ['a', 'b', 'c'].map((name) =>
    fakeStepProcessor(
      { store, queue, invoker },
      {
        clock,
        leaseSeconds: LEASE_SECONDS,
        tokenPrefix: name,
        faults: { afterSend: crash('after send'), afterCommit: crash('after commit') },
      },
    ),
  );
  const deps = {
    store,
    queue,
    invoker,
    now: () => clock.now,
    newId: () => `delete-${log.length}`,
    maxQueueDelaySeconds: 900,
  };

  const deliver = async (delivery: Delivery) => {
    if ('remove' in delivery) {
      try {
        log.push(`delete ${await deleteMachine(deps, 'm-1')}`);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        pending.push({ remove: true, at: clock.now + 100 });
      }
      return;
    }
    const { message } = delivery;
    if ('purgeHistory' in message) {
      await purgeHistory(deps, message.purgeHistory);
      return;
    }
    const processor = processors[Math.floor(random() * processors.length)] ?? processors[0];
    // Sometimes an invocation has no time left to run on.
    const budget = { remainingMs: () => (chance(0.2) ? 5_000 : 60_000) };
    await processor?.(message, budget).catch(() => {
      pending.push({ message, at: clock.now + VISIBILITY_MS });
    });
  };

  pending.push({ message: { id: 'm-1', version: 0, attempt: 1 }, at: T0 });
  if (withDelete) pending.push({ remove: true, at: T0 + Math.floor(random() * 40) });
  for (let rounds = 0; pending.length > 0; rounds++) {
    if (rounds > 3_000) throw new Error(`seed ${seed}: no end after ${rounds} rounds`);
    pending.sort((a, b) => a.at - b.at);
    clock.now = Math.max(clock.now, (pending[0] as Delivery).at) + Math.floor(random() * 5);
    const ready = pending.filter((delivery) => delivery.at <= clock.now).slice(0, 3);
    for (const delivery of ready) pending.splice(pending.indexOf(delivery), 1);
    // The same message to two processors at the same moment, now and then.
    const first = ready[0];
    if (first && 'message' in first && chance(0.2)) ready.push(first);
    await Promise.all(ready.map(deliver));
  }
  return { store, log, committed };
}

describe('a machine under random interleavings of processors, copies, crashes and throttles', () => {
  it(`commits every step once and keeps every event in its history once (${SEEDS} seeds)`, async () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { store, log, committed } = await simulate(seed, { withDelete: false });
      const record = store.records.get('m-1') as MachineRecord;
      expect(record, `seed ${seed}`).to.include({ status: 'SUCCEEDED', version: STEPS });
      expect(committed, `seed ${seed}`).to.deep.equal(Array.from({ length: STEPS }, (_, i) => `${i + 1}.1.0`));
      const history = fullHistory(record, store.historyOf(record));
      expect(
        history.map((event) => event.seq),
        `seed ${seed}`,
      ).to.deep.equal(Array.from({ length: record.seq + 1 }, (_, i) => i));
      expect(history.filter((event) => event.outcome === 'transition').length, `seed ${seed}`).to.equal(STEPS - 1);
      expect(log.filter((line) => line.startsWith('invoke')).length, `seed ${seed}`).to.be.at.least(STEPS);
      expect(
        log.filter((line) => line.endsWith('while it runs')),
        `seed ${seed}`,
      ).to.deep.equal([]);
    }
  });

  it(`deletes the machine and its history, starting no handler after a 204 (${SEEDS} seeds)`, async () => {
    let marked = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { store, log, committed } = await simulate(seed, { withDelete: true });
      expect(store.records.has('m-1'), `seed ${seed}`).to.equal(false);
      expect(store.events.size, `seed ${seed}`).to.equal(0);
      expect(new Set(committed).size, `seed ${seed}`).to.equal(committed.length);
      expect(
        log.filter((line) => line.endsWith('while it runs')),
        `seed ${seed}`,
      ).to.deep.equal([]);
      const deleted = log.indexOf('delete deleted');
      if (deleted >= 0) {
        expect(
          log.slice(deleted + 1).filter((line) => line.startsWith('invoke')),
          `seed ${seed}`,
        ).to.deep.equal([]);
      }
      if (log.includes('delete removing')) marked++;
    }
    // Both ways were taken: some deletes found a step running and marked the machine.
    expect(marked).to.be.within(1, SEEDS - 1);
  });
});
