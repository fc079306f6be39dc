import type { SQSEvent } from 'aws-lambda';
import { expect } from 'chai';
import type { MachineRecord } from '../../domain/machine';
import { api, exampleWorkflow, waitFor } from '../helpers/api';
import { crashOncePerStep, FaultRig, newStats } from '../helpers/faultRig';
import { currentStack } from '../helpers/stack';
import { audit, faultTable, WORKFLOW_EVENTS } from './faultSuite';

const { record, print: printTable } = faultTable();

/** Duplicated, concurrent and crashing processors; delete; poison messages (the other cases: faults*.test.ts). */
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

  it('commits each step once when every message is delivered 3 times', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => rig.add(exampleWorkflow())));
    const stats = await rig.drive({ duplicates: 2, until: () => rig.allFinished(ids) });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    expect(stats.outcomes['dropped:stale']).to.be.greaterThan(0);
    record('every message x3', ids.length, '2 extra copies of each message', stats, counts);
  });

  it('commits each step once when two processors handle the same message at the same moment', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => rig.add(exampleWorkflow())));
    const stats = await rig.drive({
      processors: [rig.processor(), rig.processor()],
      until: () => rig.allFinished(ids),
    });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    expect(stats.outcomes.committed).to.equal(ids.length * 4);
    record('two processors at once', ids.length, 'each message to 2 processors concurrently', stats, counts);
  });

  it('redoes a step whose processor crashed after sending the next message and before committing', async () => {
    const ids = await Promise.all(Array.from({ length: 3 }, () => rig.add(exampleWorkflow())));
    const crashing = rig.processor({ afterSend: crashOncePerStep() });
    const stats = await rig.drive({ processors: [crashing], until: () => rig.allFinished(ids) });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    expect(stats.crashes).to.equal(ids.length * 3);
    // Each crashed step ran its handler again: at-least-once handler runs, exactly-once commits.
    expect(rig.invocations.get(`${ids[0]}:0`)).to.equal(2);
    record('crash after send, before commit', ids.length, '1 crash per step', stats, counts);
  });

  it('drops the redelivered message of a processor that crashed after committing', async () => {
    const ids = await Promise.all(Array.from({ length: 3 }, () => rig.add(exampleWorkflow())));
    const crashing = rig.processor({ afterCommit: crashOncePerStep() });
    const stats = await rig.drive({ processors: [crashing], until: () => rig.allFinished(ids) });
    const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
    expect(stats.crashes).to.equal(ids.length * 4);
    expect(rig.invocations.get(`${ids[0]}:0`)).to.equal(1);
    record('crash after commit, before ack', ids.length, '1 crash per step (redelivery)', stats, counts);
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
      const response = await handler(event, { invokedFunctionArn: '' } as never);
      expect(response.batchItemFailures).to.deep.equal([]);
      expect((await rig.get(victim))?.version).to.equal(1);
      const untouched = await rig.get(bystander);
      expect(untouched).to.include({ version: 0, status: 'RUNNING', seq: 0 });
      expect(untouched?.lease).to.equal(undefined);
    });
  });
});
