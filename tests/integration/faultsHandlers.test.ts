import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { api, exampleWorkflow, waitFor } from '../helpers/api';
import { FaultRig } from '../helpers/faultRig';
import { currentStack } from '../helpers/stack';
import { audit, faultTable } from './faultSuite';

const { record, print: printTable } = faultTable();

/** The fault suite, continued (faults.test.ts): handler outcomes, dead-lettering, long delays. */
describe('fault suite: exactly-once commits under faults', function () {
  this.timeout(120_000);
  let rig: FaultRig;

  beforeEach(async () => {
    rig = await FaultRig.create();
  });
  afterEach(async () => {
    await rig?.dispose();
  });
  after(printTable);

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
          object: { delay: 3 },
        });
        const started = Date.now();
        const stats = await chained.drive({ until: () => chained.allFinished([id]) });
        expect(Date.now() - started).to.be.at.least(3000);
        expect(stats.outcomes.waiting).to.be.at.least(2);
        const events = await chained.history(id);
        expect(events.map((e) => e.outcome)).to.deep.equal(['created', 'transition', 'succeeded']);
        expect(events[1]?.delay).to.equal(3);
        expect((await chained.get(id))?.version).to.equal(2);
      } finally {
        await chained.dispose();
      }
    });
  });
});
