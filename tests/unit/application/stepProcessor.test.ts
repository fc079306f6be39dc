import { expect } from 'chai';
import { DEFER_SECONDS, THROTTLE_RETRY_SECONDS } from '../../../domain/limits';
import type { MachineRecord, StepMessage } from '../../../domain/machine';
import type { InvocationResult } from '../../../domain/step';
import type { FaultPoints } from '../../../handlers/application/commitExecutor';
import { deleteMachine } from '../../../handlers/application/deleteMachine';
import type { StepLogFields } from '../../../handlers/application/metrics';
import { redriveMachine } from '../../../handlers/application/redriveMachine';
import { parsePurgeMessage, parseStepMessage } from '../../../handlers/application/stepProcessor';
import { machine, T0 } from '../../helpers/factories';
import { fakeStepProcessor, InMemoryMachineStore, RecordingQueue, ScriptedInvoker } from '../../helpers/fakes';
import { fullHistory } from '../../helpers/history';

const LEASE_SECONDS = 60;
const toTask1: InvocationResult = { kind: 'returned', payload: { state: 'TASK-1', delay: 5 } };
const message = (overrides: Partial<StepMessage> = {}): StepMessage => ({
  id: 'm-1',
  version: 0,
  attempt: 1,
  ...overrides,
});

function setup({
  results = [toTask1],
  record = machine(),
  now = T0,
  faults,
  logged,
}: {
  results?: InvocationResult[];
  record?: MachineRecord | null;
  now?: number;
  faults?: FaultPoints;
  logged?: StepLogFields[];
} = {}) {
  const store = new InMemoryMachineStore();
  if (record) store.put(record);
  const queue = new RecordingQueue();
  const invoker = new ScriptedInvoker(results);
  const clock = { now };
  const processStep = fakeStepProcessor(
    { store, queue, invoker },
    { clock, leaseSeconds: LEASE_SECONDS, faults, logStep: (fields) => logged?.push(fields) },
  );
  return { store, queue, invoker, processStep, clock };
}

describe('the step processor', () => {
  describe('a due step nobody holds', () => {
    it('reads it, claims it, finds it still current, invokes the state function, sends the next step, then commits', async () => {
      const { store, queue, invoker, processStep } = setup();

      expect(await processStep(message())).to.equal('committed');

      expect(store.calls).to.deep.equal(['getRecordOnly', 'claim', 'getRecordOnly', 'commit']);
      expect(invoker.calls).to.deep.equal([
        {
          functionName: 'svc-dev-prepare',
          input: {
            id: 'm-1',
            state: 'START',
            object: { orderId: 42 },
            config: machine().config,
            version: 0,
            attempt: 1,
          },
        },
      ]);
      expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 1, attempt: 1 }, delaySeconds: 5 }]);
      const committed = store.records.get('m-1');
      expect(committed).to.include({ state: 'TASK-1', version: 1, attempt: 1, status: 'RUNNING', seq: 1 });
      expect(committed?.lease).to.equal(undefined);
      expect(committed?.lastEvent).to.include({ outcome: 'transition', from: 'START', to: 'TASK-1', delay: 5 });
    });

    it('writes the event of the commit it replaces to the history', async () => {
      const { store, processStep } = setup();
      await processStep(message());
      expect(store.historyOf(machine()).map((event) => event.outcome)).to.deep.equal(['created']);
    });

    it('sends nothing when the machine finishes', async () => {
      const { store, queue, processStep } = setup({ results: [{ kind: 'returned', payload: null }] });
      expect(await processStep(message())).to.equal('committed');
      expect(queue.sent).to.deep.equal([]);
      expect(store.records.get('m-1')).to.include({ status: 'SUCCEEDED', version: 1 });
    });

    it('schedules a retry of the same step after a retryable failure', async () => {
      const { store, queue, processStep } = setup({ results: [{ kind: 'failed', message: 'boom', retryable: true }] });
      expect(await processStep(message())).to.equal('committed');
      expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 0, attempt: 2 }, delaySeconds: 1 }]);
      expect(store.records.get('m-1')).to.include({ version: 0, attempt: 2, status: 'RUNNING' });
    });

    it('fails a machine whose function is not on the allow-list, without invoking anything', async () => {
      const { store, invoker, processStep } = setup({
        record: machine({ config: { START: 'arn:aws:lambda:us-east-1:123456789012:function:elsewhere' } }),
      });
      expect(await processStep(message())).to.equal('committed');
      expect(invoker.calls).to.deep.equal([]);
      expect(store.records.get('m-1')?.error?.message).to.equal(
        "function 'arn:aws:lambda:us-east-1:123456789012:function:elsewhere' of state 'START' is not on this service's allow-list",
      );
    });
    it('fails a machine whose state has no function in its config, without invoking anything', async () => {
      const { store, invoker, processStep } = setup({ record: machine({ state: 'GONE' }) });
      expect(await processStep(message())).to.equal('committed');
      expect(invoker.calls).to.deep.equal([]);
      expect(store.records.get('m-1')).to.include({ status: 'FAILED' });
      expect(store.records.get('m-1')?.error?.message).to.equal(
        "function '' of state 'GONE' is not on this service's allow-list",
      );
    });
  });

  describe("running on (a next step due at once, with the invocation's time left)", () => {
    const to = (state: string, delay = 0): InvocationResult => ({ kind: 'returned', payload: { state, delay } });
    const done: InvocationResult = { kind: 'returned', payload: null };
    const plenty = { remainingMs: () => 60_000 };

    it('runs the steps due at once in this call, the first claimed, each next one held by its commit, with no send, until one is not', async () => {
      const logged: StepLogFields[] = [];
      const { store, queue, invoker, processStep } = setup({
        results: [to('TASK-1'), to('FINALIZE'), to('START', 5)],
        logged,
      });
      expect(await processStep(message(), plenty)).to.equal('committed');

      // No claim and no read-back for a step run on to: its commit took it, and a delete finds it held.
      expect(store.calls).to.deep.equal(['getRecordOnly', 'claim', 'getRecordOnly', 'commit', 'commit', 'commit']);
      expect(invoker.calls.map((call) => call.input.state)).to.deep.equal(['START', 'TASK-1', 'FINALIZE']);
      expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 3, attempt: 1 }, delaySeconds: 5 }]);
      const committed = store.records.get('m-1') as MachineRecord;
      expect(committed).to.include({ state: 'START', version: 3, seq: 3 });
      expect(committed.carrier).to.equal(undefined);
      expect(committed.lease).to.equal(undefined);
      // The claim wrote the first event; the chain's ride in the record, which they fit in for free.
      expect(store.historyOf(machine()).map((event) => event.outcome)).to.deep.equal(['created']);
      expect(committed.pendingEvents?.map((event) => event.seq)).to.deep.equal([1, 2]);
      expect(fullHistory(committed, store.historyOf(machine())).map((event) => event.seq)).to.deep.equal([0, 1, 2, 3]);
      expect(logged.map(({ version, outcome, state }) => ({ version, outcome, state }))).to.deep.equal([
        { version: 0, outcome: 'committed', state: 'TASK-1' },
        { version: 1, outcome: 'committed', state: 'FINALIZE' },
        { version: 2, outcome: 'committed', state: 'START' },
      ]);
    });

    it('names the message as the carrier of a step it commits without a message of its own, and holds that step', async () => {
      const { store, invoker, processStep } = setup({ results: [to('TASK-1'), done] });
      const seen: Partial<MachineRecord>[] = [];
      invoker.during = async () => {
        const { carrier, lease } = store.records.get('m-1') as MachineRecord;
        seen.push({ carrier, lease });
      };
      expect(await processStep(message(), plenty)).to.equal('committed');
      expect(seen).to.deep.equal([
        { carrier: undefined, lease: undefined },
        { carrier: { version: 0, attempt: 1 }, lease: { token: 'token-2', until: T0 + LEASE_SECONDS * 1000 } },
      ]);
      expect(store.records.get('m-1')).to.include({ status: 'SUCCEEDED', version: 2 });
      expect(store.records.get('m-1')?.carrier).to.equal(undefined);
    });

    it('writes the events to the history first when carrying them would cost the commit another write unit', async () => {
      const { store, processStep } = setup({ results: [to('TASK-1'), to('FINALIZE'), done] });
      store.writeUnits = (record) => (record.pendingEvents ? 2 : 1);
      expect(await processStep(message(), plenty)).to.equal('committed');
      expect(store.calls).to.deep.equal([
        ...['getRecordOnly', 'claim', 'getRecordOnly', 'commit'],
        ...['writeRecordEvents', 'commit'],
        ...['writeRecordEvents', 'commit'],
      ]);
      expect(store.records.get('m-1')?.pendingEvents).to.equal(undefined);
      expect(store.historyOf(machine()).map((event) => event.seq)).to.deep.equal([0, 1, 2]);
    });

    it("sends the next step its own message when the invocation's time left is less than its invoke may take", async () => {
      const { store, queue, invoker, processStep } = setup({ results: [to('TASK-1')] });
      const budget = { remainingMs: () => LEASE_SECONDS * 1000 * 0.8 + 1_999 };
      expect(await processStep(message(), budget)).to.equal('committed');
      expect(invoker.calls).to.have.length(1);
      expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 1, attempt: 1 }, delaySeconds: 0 }]);
      const committed = store.records.get('m-1') as MachineRecord;
      expect(committed).to.include({ version: 1 });
      expect([committed.carrier, committed.lease]).to.deep.equal([undefined, undefined]);
    });

    it("runs on to a state with a short timeout of its own when there is time for that one's invoke", async () => {
      const { invoker, processStep } = setup({
        record: machine({ timeouts: { 'TASK-1': 5 } }),
        results: [to('TASK-1'), done],
      });
      expect(await processStep(message(), { remainingMs: () => 7_000 })).to.equal('committed');
      expect(invoker.calls.map((call) => call.input.state)).to.deep.equal(['START', 'TASK-1']);
    });

    it('lets a delete in the middle of a chain only mark the machine, which the chain then deletes', async () => {
      const { store, queue, invoker, processStep } = setup({ results: [to('TASK-1'), to('FINALIZE'), to('START')] });
      const deps = { store, queue, invoker, now: () => T0, newId: () => 'delete', maxQueueDelaySeconds: 900 };
      const answers: string[] = [];
      invoker.during = async () => {
        if (invoker.calls.length === 3) answers.push(await deleteMachine(deps, 'm-1'));
      };
      expect(await processStep(message(), plenty)).to.equal('deleted');
      expect(answers).to.deep.equal(['removing']);
      expect(store.calls).to.include('markRemoving');
      expect(invoker.calls).to.have.length(3);
      expect(store.records.has('m-1')).to.equal(false);
      expect(store.events.size).to.equal(0);
      expect(queue.sent).to.deep.equal([]);
    });

    it('goes on with a carried commit that landed but was reported refused (a lost response): the record holds our lease', async () => {
      const { store, queue, invoker, processStep } = setup({ results: [to('TASK-1'), done] });
      const commit = store.commit.bind(store);
      store.commit = async (next, guard) => {
        await commit(next, guard);
        return next.version === 2; // the SDK's retry of a write that landed
      };
      expect(await processStep(message(), plenty)).to.equal('committed');
      expect(invoker.calls).to.have.length(2);
      expect(store.records.get('m-1')).to.include({ status: 'SUCCEEDED', version: 2 });
      expect(queue.sent).to.deep.equal([]);
    });

    it('reports a refused carried commit whose record does not hold our lease', async () => {
      const { store, queue, processStep } = setup({ results: [to('TASK-1')] });
      store.commit = async () => false;
      expect(await processStep(message(), plenty)).to.equal('commit-refused');
      expect(queue.sent).to.deep.equal([{ message: { id: 'm-1', version: 0, attempt: 1 }, delaySeconds: 0 }]);
    });

    it('reports a refused carried commit of a machine deleted meanwhile, or whose step nobody holds', async () => {
      for (const meanwhile of [
        (store: InMemoryMachineStore) => store.records.delete('m-1'),
        (store: InMemoryMachineStore) => store.leases.clear(),
      ]) {
        const { store, processStep } = setup({ results: [to('TASK-1')] });
        store.commit = async () => {
          meanwhile(store);
          return false;
        };
        expect(await processStep(message(), plenty)).to.equal('commit-refused');
      }
    });

    it('gives a throttled step run on to its own message to try later, not the carrier, and lets it run then', async () => {
      const { store, queue, clock, invoker, processStep } = setup({
        results: [to('TASK-1'), { kind: 'throttled', message: 'Rate exceeded' }, done],
      });
      expect(await processStep(message(), plenty)).to.equal('throttled');
      expect(queue.sent).to.deep.equal([
        { message: { id: 'm-1', version: 1, attempt: 1 }, delaySeconds: THROTTLE_RETRY_SECONDS },
      ]);
      expect(store.records.get('m-1')).to.include({ version: 1 });

      // The lease its commit put in the record was given back: the step's own message runs it.
      clock.now += THROTTLE_RETRY_SECONDS * 1000;
      expect(await processStep(message({ version: 1 }), plenty)).to.equal('committed');
      expect(invoker.calls.map((call) => call.input.state)).to.deep.equal(['START', 'TASK-1', 'TASK-1']);
      expect(store.records.get('m-1')).to.include({ status: 'SUCCEEDED', version: 2 });
    });

    it("lets a step given back twice run at once: a later holder ends its lease, it does not uncover the chain's", async () => {
      const throttled: InvocationResult = { kind: 'throttled', message: 'Rate exceeded' };
      const { store, clock, invoker, processStep } = setup({ results: [to('TASK-1'), throttled, throttled, done] });
      expect(await processStep(message(), plenty)).to.equal('throttled');
      clock.now += THROTTLE_RETRY_SECONDS * 1000;
      expect(await processStep(message({ version: 1 }), plenty)).to.equal('throttled');
      clock.now += THROTTLE_RETRY_SECONDS * 1000;
      expect(await processStep(message({ version: 1 }), plenty)).to.equal('committed');
      expect(invoker.calls).to.have.length(4);
      expect(store.records.get('m-1')).to.include({ status: 'SUCCEEDED', version: 2 });
    });

    it('gives the lease in the record back when an AWS call fails mid-chain, so the carrier redelivered runs at once', async () => {
      const { store, invoker, processStep } = setup({ results: [to('TASK-1'), done] });
      invoker.during = async () => {
        if (invoker.calls.length === 2) throw new Error('network down');
      };
      let error: unknown;
      await processStep(message(), plenty).catch((e: unknown) => {
        error = e;
      });
      expect(String(error)).to.include('network down');
      const held = (await store.getWithLease('m-1')) as MachineRecord;
      expect(held).to.include({ version: 1 });
      expect(held.lease?.until).to.equal(0);
      invoker.during = undefined;
      expect(await processStep(message(), plenty)).to.equal('committed');
      expect(store.records.get('m-1')).to.include({ status: 'SUCCEEDED', version: 2 });
    });

    it('keeps the events of a chain that failed in its record, and a redrive writes them before its own', async () => {
      const failed: InvocationResult = { kind: 'failed', message: 'boom', retryable: false };
      const { store, queue, invoker, processStep } = setup({ results: [to('TASK-1'), failed] });
      expect(await processStep(message(), plenty)).to.equal('committed');
      const final = store.records.get('m-1') as MachineRecord;
      expect(final).to.include({ status: 'FAILED', seq: 2 });
      expect(final.pendingEvents?.map((event) => event.seq)).to.deep.equal([1]);

      const deps = { store, queue, invoker, now: () => T0, newId: () => 'redrive', maxQueueDelaySeconds: 900 };
      const redriven = await redriveMachine(deps, 'm-1', {});
      expect(redriven).to.include({ status: 'RUNNING', seq: 3 });
      expect(store.records.get('m-1')?.pendingEvents).to.equal(undefined);
      expect(store.historyOf(machine()).map((event) => event.seq)).to.deep.equal([0, 1, 2]);
    });

    it('resumes the chain from the carrier redelivered after a crash, and drops it once the chain has ended', async () => {
      let crashes = 0;
      const { store, queue, invoker, processStep, clock } = setup({
        results: [to('TASK-1'), to('FINALIZE'), done],
        faults: {
          afterCommit: (step) => {
            if (step.version === 1 && crashes++ === 0) throw new Error('crash');
          },
        },
      });
      let error: unknown;
      await processStep(message(), plenty).catch((e: unknown) => {
        error = e;
      });
      expect(String(error)).to.include('crash');
      expect(store.records.get('m-1')).to.deep.include({ version: 2, carrier: { version: 0, attempt: 1 } });
      expect(queue.sent).to.deep.equal([]);

      // A copy of the carrier while the crashed chain's lease lives finds the step held.
      expect(await processStep(message(), plenty)).to.equal('deferred');
      // SQS redelivers the carrier after its visibility timeout, longer than the lease.
      clock.now += LEASE_SECONDS * 1000;
      expect(await processStep(message(), plenty)).to.equal('committed');
      expect(invoker.calls.map((call) => call.input.state)).to.deep.equal(['START', 'TASK-1', 'FINALIZE']);
      const finished = store.records.get('m-1') as MachineRecord;
      expect(finished).to.include({ status: 'SUCCEEDED', version: 3 });
      expect(fullHistory(finished, store.historyOf(machine())).map((event) => event.seq)).to.deep.equal([0, 1, 2, 3]);
      expect(await processStep(message(), plenty)).to.equal('dropped:stale');
    });
  });

  describe('a throttled handler', () => {
    it('gives the step back and tries it again later, without using up an attempt', async () => {
      const { store, queue, processStep } = setup({
        results: [{ kind: 'throttled', message: 'TooManyRequestsException: Rate exceeded' }],
      });
      expect(await processStep(message())).to.equal('throttled');
      const record = store.records.get('m-1');
      expect(record).to.include({ version: 0, attempt: 1, seq: 0, status: 'RUNNING' });
      expect(record?.lease).to.equal(undefined);
      expect(queue.sent).to.deep.equal([{ message: message(), delaySeconds: THROTTLE_RETRY_SECONDS }]);
    });
  });

  describe('a message that is not the current step', () => {
    it('is dropped when the machine does not exist', async () => {
      const { queue, processStep } = setup({ record: null });
      expect(await processStep(message())).to.equal('dropped:missing');
      expect(queue.sent).to.deep.equal([]);
    });

    it('is dropped when the step was already committed', async () => {
      const { store, invoker, processStep } = setup({ record: machine({ version: 2 }) });
      expect(await processStep(message({ version: 1 }))).to.equal('dropped:stale');
      expect(invoker.calls).to.deep.equal([]);
      expect(store.records.get('m-1')?.version).to.equal(2);
    });

    it('is dropped when it is ahead of a step nobody holds (its sender died before committing)', async () => {
      const { processStep } = setup();
      expect(await processStep(message({ version: 1 }))).to.equal('dropped:stale');
    });

    it('is looked at again and run once the commit it overtook lands', async () => {
      const { store, queue, processStep } = setup({
        record: machine({ lease: { token: 'other', until: T0 + 30_000 } }),
      });
      let reads = 0;
      store.before.getWithLease = () => {
        if (++reads === 2) store.put(machine({ version: 1, seq: 1 }));
      };
      expect(await processStep(message({ version: 1 }))).to.equal('committed');
      expect(reads).to.equal(2);
      expect(store.records.get('m-1')).to.include({ version: 2, state: 'TASK-1' });
      expect(queue.sent.map((sent) => sent.message)).to.deep.equal([message({ version: 2 })]);
    });

    it('is deferred for a second when the commit it overtook has still not landed', async () => {
      const { store, queue, processStep } = setup({
        record: machine({ lease: { token: 'other', until: T0 + 30_000 } }),
      });
      expect(await processStep(message({ version: 1 }))).to.equal('deferred');
      expect(store.calls.filter((call) => call === 'getWithLease')).to.have.length(4);
      expect(queue.sent).to.deep.equal([{ message: message({ version: 1 }), delaySeconds: DEFER_SECONDS }]);
    });

    it('is deferred until the lease ends when another processor holds the step', async () => {
      const { store, queue, invoker, processStep } = setup({
        record: machine({ lease: { token: 'other', until: T0 + 30_000 } }),
      });
      expect(await processStep(message())).to.equal('deferred');
      expect(invoker.calls).to.deep.equal([]);
      expect(queue.sent).to.deep.equal([{ message: message(), delaySeconds: 30 }]);
      // Only an early message is looked at again: a held step is not going to land in milliseconds.
      expect(store.calls.filter((call) => call === 'getWithLease')).to.have.length(1);
    });

    it('waits again when the machine sleeps longer than one queue delay', async () => {
      const wakeAt = new Date(T0 + 2_000_000).toISOString();
      const { queue, processStep } = setup({ record: machine({ wakeAt }) });
      expect(await processStep(message())).to.equal('waiting');
      expect(queue.sent).to.deep.equal([{ message: message(), delaySeconds: 900 }]);
    });
  });

  describe('a machine being removed', () => {
    it('is deleted with its history when no handler runs', async () => {
      const { store, processStep } = setup({ record: machine({ removing: true }) });
      await store.writeRecordEvents(machine());
      expect(await processStep(message())).to.equal('deleted');
      expect(store.records.has('m-1')).to.equal(false);
      expect(store.events.size).to.equal(0);
    });

    it('is deleted by the step that was running when its commit is refused', async () => {
      const { store, queue, invoker, processStep } = setup();
      invoker.during = () => {
        const record = store.records.get('m-1') as MachineRecord;
        store.put({ ...record, removing: true });
      };
      expect(await processStep(message())).to.equal('deleted');
      expect(store.records.has('m-1')).to.equal(false);
      // The next step's message was already sent; it finds nothing and is dropped.
      expect(queue.sent).to.have.length(1);
    });

    it('leaves alone a machine added again under its name while its history was being purged', async () => {
      const { store, processStep } = setup({ record: machine({ removing: true }) });
      const again = machine({ createdAt: new Date(T0 + 1000).toISOString() });
      store.before.deleteRecord = () => {
        store.records.delete('m-1');
        store.put(again);
      };
      expect(await processStep(message())).to.equal('deleted');
      expect(store.records.get('m-1')).to.deep.equal(again);
    });
  });

  describe('a claim that races', () => {
    /** Another processor holds the step during the first claim and lets go before the read. */
    function heldThenReleased(
      store: InMemoryMachineStore,
      { heldAgainAtSecondClaim }: { heldAgainAtSecondClaim: boolean },
    ) {
      let claims = 0;
      const hold = () => {
        const record = store.records.get('m-1') as MachineRecord;
        store.put({ ...record, lease: { token: 'other', until: T0 + 60_000 } });
      };
      store.before.claim = () => {
        claims++;
        if (claims === 1 || heldAgainAtSecondClaim) hold();
      };
      store.before.getWithLease = () => {
        store.leases.clear();
      };
      return () => claims;
    }

    it('runs the step when the one-request claim missed but the step turns out to be free', async () => {
      const { store, processStep } = setup();
      const claims = heldThenReleased(store, { heldAgainAtSecondClaim: false });
      expect(await processStep(message())).to.equal('committed');
      expect(claims()).to.equal(2);
    });

    it('defers the message when another processor claims the step between the read and the claim', async () => {
      const { store, queue, invoker, processStep } = setup();
      const claims = heldThenReleased(store, { heldAgainAtSecondClaim: true });
      expect(await processStep(message())).to.equal('deferred');
      expect(claims()).to.equal(2);
      expect(invoker.calls).to.deep.equal([]);
      expect(queue.sent).to.deep.equal([{ message: message(), delaySeconds: DEFER_SECONDS }]);
    });

    it('never acknowledges a step whose claim keeps failing while decide() says it is free', async () => {
      const { store, queue, processStep } = setup();
      // As when our own claim landed but its response was lost: the SDK's retry finds the lease.
      store.claim = async () => false;
      expect(await processStep(message())).to.equal('deferred');
      expect(queue.sent).to.deep.equal([{ message: message(), delaySeconds: DEFER_SECONDS }]);
    });
  });

  describe('a version gone between the read and the claim', () => {
    it('starts no handler on a step another writer committed meanwhile (the dead-letter consumer failed it)', async () => {
      const { store, queue, invoker, processStep } = setup();
      store.before.claim = () => {
        store.before.claim = undefined;
        const read = store.records.get('m-1') as MachineRecord;
        store.put({
          ...read,
          status: 'FAILED',
          seq: read.seq + 1,
          lastEvent: { ...read.lastEvent, seq: read.seq + 1 },
        });
      };
      expect(await processStep(message())).to.equal('dropped:stale');
      expect(invoker.calls).to.deep.equal([]);
      expect(queue.sent).to.deep.equal([]);
      // Given back: ended, so nobody waits for it.
      expect([...store.leases.values()]).to.deep.equal([{ token: 'token-1', until: 0 }]);
    });

    it('starts no handler on a machine deleted meanwhile, its history purged before the claim', async () => {
      const { store, invoker, processStep } = setup();
      store.before.claim = () => {
        store.before.claim = undefined;
        store.records.delete('m-1');
      };
      expect(await processStep(message())).to.equal('dropped:missing');
      expect(invoker.calls).to.deep.equal([]);
    });
  });

  describe('a commit refused because the lease ran out', () => {
    it('sends the same step again when nobody moved the machine on', async () => {
      const { store, queue, invoker, processStep, clock } = setup();
      invoker.during = () => {
        clock.now = T0 + LEASE_SECONDS * 1000 + 1;
      };
      expect(await processStep(message())).to.equal('commit-refused');
      expect(queue.sent.map((sent) => sent.message)).to.deep.equal([message({ version: 1 }), message()]);
      expect(store.records.get('m-1')?.version).to.equal(0);
    });

    it('sends nothing more when another processor already committed the step', async () => {
      const { store, queue, invoker, processStep } = setup();
      invoker.during = () => {
        store.put(machine({ version: 1, seq: 1, state: 'TASK-1' }));
      };
      expect(await processStep(message())).to.equal('commit-refused');
      expect(queue.sent.map((sent) => sent.message)).to.deep.equal([message({ version: 1 })]);
    });

    it('sends nothing more when the machine is gone', async () => {
      const { store, queue, invoker, processStep } = setup();
      invoker.during = () => {
        store.records.delete('m-1');
      };
      expect(await processStep(message())).to.equal('commit-refused');
      expect(queue.sent).to.have.length(1);
    });
  });

  describe('a processing error', () => {
    it('gives the lease back and reports the error, so SQS retries the message', async () => {
      const { store, queue, processStep } = setup();
      queue.failNext = new Error('SQS is down');
      let failure: unknown;
      await processStep(message()).catch((error) => {
        failure = error;
      });
      expect((failure as Error).message).to.equal('SQS is down');
      expect(store.records.get('m-1')?.lease).to.equal(undefined);
      expect(store.calls).to.include('releaseClaim');
    });

    it('still reports the error when giving the lease back fails too', async () => {
      const { store, queue, processStep } = setup();
      queue.failNext = new Error('SQS is down');
      store.before.releaseClaim = () => {
        throw new Error('DynamoDB is down');
      };
      let failure: unknown;
      await processStep(message()).catch((error) => {
        failure = error;
      });
      expect((failure as Error).message).to.equal('SQS is down');
    });
  });

  describe('fault points', () => {
    it('are passed the step after the send and after the commit', async () => {
      const seen: string[] = [];
      const { processStep } = setup({
        faults: {
          afterSend: (step) => seen.push(`send ${step.version}`),
          afterCommit: (step) => seen.push(`commit ${step.version}`),
        },
      });
      await processStep(message());
      expect(seen).to.deep.equal(['send 0', 'commit 0']);
    });

    it('may be given one without the other', async () => {
      const seen: string[] = [];
      const { processStep } = setup({ faults: { afterCommit: (step) => seen.push(`commit ${step.version}`) } });
      expect(await processStep(message())).to.equal('committed');
      expect(seen).to.deep.equal(['commit 0']);
    });

    it('skip the send point when the commit sends nothing', async () => {
      const seen: string[] = [];
      const { processStep } = setup({
        results: [{ kind: 'returned', payload: null }],
        faults: { afterSend: () => seen.push('send') },
      });
      await processStep(message());
      expect(seen).to.deep.equal([]);
    });
  });
});

describe('parseStepMessage', () => {
  it('reads a step message', () => {
    expect(parseStepMessage('{"id":"m-1","version":2,"attempt":1}')).to.deep.equal({
      id: 'm-1',
      version: 2,
      attempt: 1,
    });
  });

  it('refuses bodies that are not JSON or not step messages', () => {
    expect(parseStepMessage('not json')).to.equal(undefined);
    expect(parseStepMessage('{"id":"m-1","version":2}')).to.equal(undefined);
    expect(parseStepMessage('{"id":"m-1","version":2,"attempt":1,"extra":true}')).to.equal(undefined);
  });
});

describe('parsePurgeMessage', () => {
  it('reads a purge request and nothing else', () => {
    expect(parsePurgeMessage('{"purgeHistory":"m-1/2026-01-01T00:00:00.000Z"}')).to.deep.equal({
      purgeHistory: 'm-1/2026-01-01T00:00:00.000Z',
    });
    expect(parsePurgeMessage('{"id":"m-1","version":2,"attempt":1}')).to.equal(undefined);
    expect(parsePurgeMessage('{"purgeHistory":""}')).to.equal(undefined);
  });
});
