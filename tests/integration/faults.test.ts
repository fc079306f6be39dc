import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { expect } from 'chai';
import type { MachineRecord } from '../../domain/machine';
import { api, exampleWorkflow, waitFor } from '../helpers/api';
import { crashOncePerStep, type FaultRig, newStats } from '../helpers/faultRig';
import { audit, faultSuite, WORKFLOW_EVENTS } from '../helpers/faultTable';
import { currentStack } from '../helpers/stack';

// The fault suite, in two files that `npm run test:integration:faults` runs side by side on one
// stack (most of their time is spent waiting on leases and visibility timeouts; each rig has a
// queue of its own): this one crashes, duplicates, handler outcomes, deletes and dead letters;
// faultsControl.test.ts delays, recovery and control, and scale.
describe('fault suite: exactly-once commits under faults', function () {
  this.timeout(120_000);
  let rig: FaultRig;
  const record = faultSuite((fresh) => {
    rig = fresh;
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
      // Again while the mark waits for the step: 202; on a loaded machine the 1.5 s step (all a
      // 3 s lease leaves it) may have ended and deleted the machine in between: 404.
      expect((await api('DELETE', `/machines/${id}`)).status).to.be.oneOf([202, 404]);
      const stats = await driving;
      expect(stats.outcomes.deleted).to.equal(1);
      expect(stats.outcomes.committed ?? 0).to.equal(0);
      expect((await api('GET', `/machines/${id}`)).status).to.equal(404);
      expect(await rig.storedHistory(before)).to.deep.equal([]);
    });

    it('answers 202 or 204, never 409, while a chain of steps runs on, and the machine and its history are gone', async () => {
      // A chain commits a step every few milliseconds: a mark that waited for one seq lost to it.
      for (let round = 0; round < 3; round++) {
        const id = await rig.add({ state: 'STEP', config: { STEP: 'noop' }, object: { steps: 400 } });
        const driving = rig.drive({ until: async () => (await rig.get(id)) === undefined });
        const before = await waitFor(
          () => rig.get(id),
          (record) => (record?.version ?? 0) >= 5,
          { what: 'the chain to be on its way' },
        );
        const deleted = await api('DELETE', `/machines/${id}`);
        expect(deleted.status, JSON.stringify(deleted.body)).to.be.oneOf([202, 204]);
        await driving;
        expect((await api('GET', `/machines/${id}`)).status).to.equal(404);
        expect(await rig.storedHistory(before as MachineRecord)).to.deep.equal([]);
      }
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

  describe('a history purge that keeps failing', () => {
    it('is done by the dead-letter consumer, not dropped as "not a step": no item of that history is left', async () => {
      const stack = currentStack();
      const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.env.DYNAMODB_ENDPOINT }));
      const table = stack.env.HISTORY_TABLE_NAME as string;
      const key = `purged-${Date.now()}/2026-01-01T00:00:00.000Z`;
      const items = async () =>
        (
          await client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: 'id = :id',
              ExpressionAttributeValues: { ':id': key },
              ConsistentRead: true,
            }),
          )
        ).Items ?? [];
      try {
        // A deleted machine's history, more than one BatchWriteItem's worth (25).
        for (let seq = 0; seq < 30; seq += 15) {
          const puts = Array.from({ length: 15 }, (_, i) => ({ PutRequest: { Item: { id: key, seq: seq + i } } }));
          await client.send(new BatchWriteCommand({ RequestItems: { [table]: puts } }));
        }
        expect(await items()).to.have.length(30);
        Object.assign(process.env, { ...stack.env, SERVICE_PREFIX: stack.env.SERVICE_PREFIX });
        const { handler } = await import('../../handlers/entrypoints/queue/deadLetterConsumer');
        const event = {
          Records: [{ messageId: 'purge-1', body: JSON.stringify({ purgeHistory: key }), eventSource: 'aws:sqs' }],
        } as unknown as SQSEvent;
        const response = await handler(event, { invokedFunctionArn: '' } as never);
        expect(response.batchItemFailures).to.deep.equal([]);
        expect(await items()).to.deep.equal([]);
      } finally {
        client.destroy();
      }
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
});
