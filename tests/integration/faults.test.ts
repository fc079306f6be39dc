import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { expect } from 'chai';
import type { MachineRecord } from '../../domain/machine';
import { deleteMachine } from '../../handlers/application/deleteMachine';
import { redriveMachine } from '../../handlers/application/redriveMachine';
import { wakeMachine } from '../../handlers/application/wakeMachine';
import { api, exampleWorkflow, waitFor } from '../helpers/api';
import { crashOncePerStep, type DriveStats, FaultRig, newStats } from '../helpers/faultRig';
import { currentStack } from '../helpers/stack';

const WORKFLOW_EVENTS = ['created', 'transition', 'transition', 'transition', 'succeeded'];

/** One row of the fault table: what was injected and what came out. */
const table: Record<string, unknown>[] = [];

/**
 * Checks every machine ended as expected with exactly the expected commits; returns the counts
 * of lost steps (fewer commits than expected) and double commits (more).
 */
async function audit(rig: FaultRig, ids: string[], expected: { status: string; version: number; events: string[] }) {
  let lost = 0;
  let doubled = 0;
  for (const id of ids) {
    const record = await rig.get(id);
    const events = await rig.history(id);
    const version = record?.version ?? 0;
    lost += Math.max(0, expected.version - version);
    doubled += Math.max(0, version - expected.version) + Math.max(0, events.length - expected.events.length);
    const why = `${id}: ${JSON.stringify({ status: record?.status, error: record?.error, events })}`;
    expect(record?.status, why).to.equal(expected.status);
    expect(record?.version, why).to.equal(expected.version);
    expect(
      events.map((e) => e.outcome),
      why,
    ).to.deep.equal(expected.events);
    expect(
      events.map((e) => e.seq),
      why,
    ).to.deep.equal(events.map((_, i) => i));
  }
  return { lost, doubled };
}

function record(
  name: string,
  machines: number,
  injected: string,
  stats: DriveStats,
  counts: { lost: number; doubled: number },
) {
  table.push({ case: name, machines, injected, delivered: stats.delivered, crashes: stats.crashes, ...counts });
}

describe('fault suite: exactly-once commits under faults', function () {
  this.timeout(120_000);
  let rig: FaultRig;

  beforeEach(async () => {
    rig = await FaultRig.create();
  });
  afterEach(async () => {
    await rig?.dispose();
  });
  after(() => {
    if (process.env.FSM_FAULT_TABLE) console.table(table);
  });

  it('commits each step once when every message is delivered 3 times', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => rig.add(exampleWorkflow())));
    const stats = await rig.drive({ duplicates: 2, until: () => rig.settled(ids) });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    // Each machine's first step comes 3 times: one runs on to the machine's end, and the other
    // two are dropped (a copy that came while the chain held the step would be deferred first).
    expect(stats.outcomes['dropped:stale']).to.be.at.least(2 * ids.length);
    record('every message x3', ids.length, '2 extra copies of each message', stats, counts);
  });

  it('commits each step once when two processors handle the same message at the same moment', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => rig.add(exampleWorkflow())));
    const stats = await rig.drive({
      processors: [rig.processor(), rig.processor()],
      until: () => rig.allFinished(ids),
    });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    expect(rig.committedSteps()).to.equal(ids.length * 4);
    record('two processors at once', ids.length, 'each message to 2 processors concurrently', stats, counts);
  });

  it('redoes a step whose processor crashed after sending the next message and before committing', async () => {
    const ids = await Promise.all(Array.from({ length: 3 }, () => rig.add(exampleWorkflow())));
    // Every step through a message of its own, so that each sends one.
    const crashing = rig.processor({ afterSend: crashOncePerStep() }, { runOn: false });
    const stats = await rig.drive({ processors: [crashing], until: () => rig.allFinished(ids) });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    expect(stats.crashes).to.equal(ids.length * 3);
    // Each crashed step ran its handler again: at-least-once handler runs, exactly-once commits.
    expect(rig.invocations.get(`${ids[0]}:0`)).to.equal(2);
    record('crash after send, before commit', ids.length, '1 crash per step', stats, counts);
  });

  it('drops the redelivered message of a processor that crashed after committing', async () => {
    const ids = await Promise.all(Array.from({ length: 3 }, () => rig.add(exampleWorkflow())));
    const crashing = rig.processor({ afterCommit: crashOncePerStep() }, { runOn: false });
    const stats = await rig.drive({ processors: [crashing], until: () => rig.allFinished(ids) });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    expect(stats.crashes).to.equal(ids.length * 4);
    expect(rig.invocations.get(`${ids[0]}:0`)).to.equal(1);
    record('crash after commit, before ack', ids.length, '1 crash per step (redelivery)', stats, counts);
  });

  it('goes on from the carrier, redelivered, when a processor that ran on crashed after a commit', async () => {
    const ids = await Promise.all(Array.from({ length: 3 }, () => rig.add(exampleWorkflow())));
    const crashing = rig.processor({ afterCommit: crashOncePerStep() });
    const stats = await rig.drive({ processors: [crashing], until: () => rig.allFinished(ids) });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    // One message per machine carried all its steps: each delivery of it ran one step, then crashed.
    expect(stats.crashes).to.equal(ids.length * 4);
    for (const id of ids) {
      expect([0, 1, 2, 3].map((version) => rig.invocations.get(`${id}:${version}`))).to.deep.equal([1, 1, 1, 1]);
    }
    record('ran on, crash after each commit', ids.length, '1 crash per step (carrier redelivered)', stats, counts);
  });

  describe('handler outcomes', () => {
    const retry = { maxAttempts: 3, backoffSeconds: 1, backoffRate: 1 };

    it('retries a handler that throws twice, then succeeds', async () => {
      const id = await rig.add({ state: 'S', config: { S: 'flaky' }, object: { failTimes: 2 }, options: { retry } });
      const stats = await rig.drive({ until: () => rig.allFinished([id]) });
      const counts = await audit(rig, [id], {
        status: 'SUCCEEDED',
        version: 1,
        events: ['created', 'retry', 'retry', 'succeeded'],
      });
      const events = await rig.history(id);
      expect(events.filter((e) => e.outcome === 'retry').map((e) => e.attempt)).to.deep.equal([2, 3]);
      expect(events[1]?.error).to.equal('flaky failure on attempt 1');
      expect(rig.invocations.get(`${id}:0`)).to.equal(3);
      record('throws twice, then succeeds', 1, '2 handler errors', stats, counts);
    });

    it('fails after maxAttempts with the last error of a handler that always throws', async () => {
      const id = await rig.add({ state: 'S', config: { S: 'always-fails' }, options: { retry } });
      const stats = await rig.drive({ until: () => rig.allFinished([id]) });
      const counts = await audit(rig, [id], {
        status: 'FAILED',
        version: 1,
        events: ['created', 'retry', 'retry', 'failed'],
      });
      const machine = await rig.get(id);
      expect(machine?.error).to.include({ message: 'always fails (attempt 3)', state: 'S' });
      expect(machine?.attempt).to.equal(3);
      record('always throws', 1, '3 handler errors', stats, counts);
    });

    it('fails at once, without retrying, a handler that returns garbage', async () => {
      const id = await rig.add({ state: 'S', config: { S: 'garbage' }, options: { retry } });
      const stats = await rig.drive({ until: () => rig.allFinished([id]) });
      const counts = await audit(rig, [id], { status: 'FAILED', version: 1, events: ['created', 'failed'] });
      expect((await rig.get(id))?.error?.message).to.match(/^malformed handler result/);
      expect(rig.invocations.get(`${id}:0`)).to.equal(1);
      record('returns garbage', 1, 'malformed result', stats, counts);
    });

    it('retries, then fails, a handler that sleeps past its timeout', async () => {
      const id = await rig.add({
        state: 'S',
        config: { S: 'sleepy' },
        object: { sleepMs: 10_000 },
        options: { retry: { maxAttempts: 2, backoffSeconds: 0, backoffRate: 1 } },
      });
      const stats = await rig.drive({ until: () => rig.allFinished([id]) });
      const counts = await audit(rig, [id], { status: 'FAILED', version: 1, events: ['created', 'retry', 'failed'] });
      expect((await rig.get(id))?.error?.message).to.match(/timeout/i);
      record('sleeps past its timeout', 1, '2 timeouts', stats, counts);
    });
  });

  describe('delete', () => {
    it('answers 202 while a handler runs, and the machine and its history are gone after that step', async () => {
      const id = await rig.add({
        state: 'S',
        config: { S: 'sleepy', T: 'prepare' },
        object: { sleepMs: 1500, next: 'T' },
      });
      const driving = rig.drive({ until: async () => (await rig.get(id)) === undefined });
      await waitFor(
        () => api('GET', `/machines/${id}`),
        (r) => r.body?.handlerRunning === true,
        {
          what: 'the handler to start',
        },
      );
      const before = (await rig.get(id)) as MachineRecord;
      const deleted = await api('DELETE', `/machines/${id}`);
      expect(deleted.status).to.equal(202);
      expect((await api('DELETE', `/machines/${id}`)).status).to.equal(202);
      const stats = await driving;
      expect(stats.outcomes.deleted).to.equal(1);
      expect(stats.outcomes.committed ?? 0).to.equal(0);
      expect((await api('GET', `/machines/${id}`)).status).to.equal(404);
      expect(await rig.storedHistory(before)).to.deep.equal([]);
    });

    it('answers 204 while it waits on a delay, and the pending message is then dropped', async () => {
      const id = await rig.add(exampleWorkflow({ delay: 2 }));
      const stats = newStats();
      const driving = rig.drive({ stats, until: async () => (stats.outcomes['dropped:missing'] ?? 0) > 0 });
      await waitFor(
        () => rig.get(id),
        (r) => (r?.version ?? 0) >= 1 && !r?.lease,
        { what: 'the first step' },
      );
      const before = (await rig.get(id)) as MachineRecord;
      expect(await rig.storedHistory(before)).to.have.length(1);
      expect((await api('DELETE', `/machines/${id}`)).status).to.equal(204);
      await driving;
      expect(await rig.get(id)).to.equal(undefined);
      expect(await rig.storedHistory(before)).to.deep.equal([]);
      expect(stats.outcomes.committed).to.equal(1);
    });
  });

  describe('poison messages', () => {
    it('never crash the batch and never touch other machines', async () => {
      const victim = await rig.add(exampleWorkflow({ delay: 0 }));
      const bystander = await rig.add(exampleWorkflow());
      const stack = currentStack();
      Object.assign(process.env, { ...stack.env, QUEUE_URL: rig.queueUrl, SERVICE_PREFIX: stack.env.SERVICE_PREFIX });
      const { handler } = await import('../../handlers/entrypoints/queue/transitionProcessor');
      const bodies = [
        'not json at all',
        JSON.stringify({ id: 'no-such-machine', version: 0, attempt: 1 }),
        JSON.stringify({ id: bystander, version: 7, attempt: 1 }),
        JSON.stringify({ id: victim, version: 0 }),
        JSON.stringify({ id: victim, version: 0, attempt: 1 }),
      ];
      const event = {
        Records: bodies.map((body, i) => ({ messageId: `m-${i}`, body, eventSource: 'aws:sqs' })),
      } as unknown as SQSEvent;
      const context = { invokedFunctionArn: '', getRemainingTimeInMillis: () => 60_000 };
      const response = await handler(event, context as never);
      expect(response.batchItemFailures).to.deep.equal([]);
      // Its steps are due at once: the one good message ran on through all of them.
      expect(await rig.get(victim)).to.include({ version: 4, status: 'SUCCEEDED' });
      const untouched = await rig.get(bystander);
      expect(untouched).to.include({ version: 0, status: 'RUNNING', seq: 0 });
      expect(untouched?.lease).to.equal(undefined);
    });
  });

  describe('a message that keeps failing', () => {
    it('is retried by SQS, dead-lettered, and its machine FAILED by the dead-letter consumer, losing nothing else', async function () {
      this.timeout(120_000);
      const stack = currentStack();
      // A record the processor cannot handle (its retry options are broken, so applying the
      // handler's failure throws), reached through the real queue and the local event source:
      // every receive fails, SQS gives up after maxReceiveCount, and the consumer of the
      // dead-letter queue fails the machine instead of leaving it RUNNING forever.
      const { store } = rig.services;
      const added = await rig.get(await rig.add({ state: 'START', config: { START: 'always-fails' } }));
      const broken = { ...added, id: `broken-${Date.now()}`, options: { ...added?.options, retry: null } } as any;
      await store.create(broken);
      const sqs = new SQSClient({ region: 'us-east-1', endpoint: stack.env.SQS_ENDPOINT });
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queueUrl,
          MessageBody: JSON.stringify({ id: broken.id, version: 0, attempt: 1 }),
        }),
      );
      sqs.destroy();
      const healthy = await api('POST', '/machines', exampleWorkflow());
      const failed = await waitFor(
        () => rig.get(broken.id),
        (record) => record?.status === 'FAILED',
        { timeoutMs: 100_000, intervalMs: 500, what: 'the dead-lettered machine to be FAILED' },
      );
      expect(failed?.error?.message).to.equal('step 0 (attempt 1) dead-lettered after 5 receives');
      expect(failed).to.include({ version: 1, state: 'START' });
      expect((await rig.history(broken.id)).map((event) => event.outcome)).to.deep.equal(['created', 'failed']);
      expect((await api('GET', `/machines/${healthy.body.id}`)).body.status).to.equal('SUCCEEDED');
    });
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
        woken.set(id, await succeeded([wakeMachine(rig.services, id), wakeMachine(rig.services, id)]));
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
      await rig.dispose();
      rig = await FaultRig.create({ leaseSeconds: 20 });
      const ids = await Promise.all(Array.from({ length: 200 }, () => rig.add(exampleWorkflow())));
      const stats = await rig.drive({
        duplicates: 1,
        workers: 4,
        timeoutMs: 110_000,
        until: () => rig.settled(ids),
      });
      const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
      expect(counts).to.deep.equal({ lost: 0, doubled: 0 });
      expect(rig.committedSteps()).to.equal(800);
      record('200 machines, duplicates', ids.length, '1 extra copy of each message', stats, counts);
    });
  });
});
