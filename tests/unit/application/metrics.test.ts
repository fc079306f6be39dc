import { expect } from 'chai';
import type { MachineRecord } from '../../../domain/machine';
import type { InvocationResult } from '../../../domain/step';
import { addMachine } from '../../../handlers/application/addMachine';
import { handleDeadLetter } from '../../../handlers/application/handleDeadLetter';
import { type StepLogFields, stepDebugFields } from '../../../handlers/application/metrics';
import { createStepProcessor } from '../../../handlers/application/stepProcessor';
import { definition, machine, scope, T0 } from '../../helpers/factories';
import {
  fakeApiDeps,
  InMemoryMachineStore,
  RecordingMetrics,
  RecordingQueue,
  ScriptedInvoker,
} from '../../helpers/fakes';

const SECRET = 'card-4111111111111111';

function setup(results: InvocationResult[], record: MachineRecord = machine(), { handlerMs = 40, lateMs = 250 } = {}) {
  const store = new InMemoryMachineStore();
  store.put(record);
  const invoker = new ScriptedInvoker(results);
  const clock = { now: Date.parse(record.wakeAt ?? record.updatedAt) + lateMs };
  invoker.during = async () => {
    clock.now += handlerMs;
  };
  const metrics = new RecordingMetrics();
  const logged: { fields: StepLogFields; debug: unknown }[] = [];
  const processStep = createStepProcessor({
    store,
    queue: new RecordingQueue(),
    invoker,
    scope,
    leaseSeconds: 60,
    maxQueueDelaySeconds: 900,
    now: () => clock.now,
    newToken: () => 'token',
    metrics,
    logStep: (fields, debug) => logged.push({ fields, debug }),
  });
  return { processStep, metrics, logged, store };
}

const step = { id: 'm-1', version: 0, attempt: 1 };

describe('metrics and step logs', () => {
  it('a transition: TransitionsCommitted, the handler duration and the latency from due time to commit', async () => {
    const { processStep, metrics } = setup([{ kind: 'returned', payload: { state: 'TASK-1' } }]);
    expect(await processStep(step)).to.equal('committed');
    expect(metrics.counts).to.deep.equal(['TransitionsCommitted']);
    expect(metrics.timings).to.deep.equal([
      ['HandlerDuration', 40],
      ['StepLatency', 290],
    ]);
  });

  it('measures latency from wakeAt when the step waited on a delay', async () => {
    const wakeAt = new Date(T0 + 5000).toISOString();
    const { processStep, metrics } = setup([{ kind: 'returned', payload: null }], machine({ wakeAt }), {
      handlerMs: 10,
      lateMs: 100,
    });
    await processStep(step);
    expect(metrics.counts).to.deep.equal(['TransitionsCommitted', 'MachinesSucceeded']);
    expect(metrics.timings).to.deep.include(['StepLatency', 110]);
  });

  it('a retryable failure: HandlerErrors and Retries; a final one: HandlerErrors and MachinesFailed', async () => {
    const retry = setup([{ kind: 'failed', message: 'boom', retryable: true }]);
    await retry.processStep(step);
    expect(retry.metrics.counts).to.deep.equal(['HandlerErrors', 'TransitionsCommitted', 'Retries']);
    const fail = setup([{ kind: 'failed', message: 'boom', retryable: false }]);
    await fail.processStep(step);
    expect(fail.metrics.counts).to.deep.equal(['HandlerErrors', 'TransitionsCommitted', 'MachinesFailed']);
  });

  it('a throttled handler: Throttles, nothing committed', async () => {
    const { processStep, metrics } = setup([{ kind: 'throttled', message: 'Rate exceeded' }]);
    expect(await processStep(step)).to.equal('throttled');
    expect(metrics.counts).to.deep.equal(['Throttles']);
    expect(metrics.timings.map(([name]) => name)).to.deep.equal(['HandlerDuration']);
  });

  it('a stale message: no metric', async () => {
    const { processStep, metrics, logged } = setup([]);
    expect(await processStep({ ...step, version: 7 })).to.equal('dropped:stale');
    expect(metrics.counts).to.deep.equal([]);
    expect(logged[0]?.fields).to.deep.equal({
      id: 'm-1',
      version: 7,
      attempt: 1,
      outcome: 'dropped:stale',
      state: 'START',
      status: 'RUNNING',
      event: 'created',
    });
  });

  it('logs id, version, state and outcome of every step, never the object; its size and keys only for DEBUG', async () => {
    const { processStep, logged } = setup(
      [{ kind: 'returned', payload: { state: 'TASK-1', object: { card: SECRET } } }],
      machine({ object: { card: SECRET, orderId: 42 } }),
    );
    await processStep(step);
    expect(logged).to.have.length(1);
    const [entry] = logged;
    expect(entry?.fields).to.deep.equal({
      id: 'm-1',
      version: 0,
      attempt: 1,
      outcome: 'committed',
      state: 'TASK-1',
      status: 'RUNNING',
      event: 'transition',
    });
    expect(JSON.stringify(entry?.fields)).not.to.include(SECRET);
    expect(entry?.debug).to.deep.equal({
      objectBytes: Buffer.byteLength(JSON.stringify({ card: SECRET })),
      objectKeys: ['card'],
    });
    expect(JSON.stringify(entry?.debug)).not.to.include(SECRET);
  });

  it('stepDebugFields: no keys for arrays and scalars, at most 20 keys', () => {
    expect(stepDebugFields([1, 2])).to.deep.equal({ objectBytes: 5, objectKeys: [] });
    expect(stepDebugFields(null)).to.deep.equal({ objectBytes: 4, objectKeys: [] });
    expect(stepDebugFields(undefined)).to.deep.equal({ objectBytes: 0, objectKeys: [] });
    const wide = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    expect(stepDebugFields(wide).objectKeys).to.have.length(20);
  });

  it('counts MachinesStarted for a new machine only, and DeadLettered + MachinesFailed for a dead-lettered step', async () => {
    const metrics = new RecordingMetrics();
    const { deps } = fakeApiDeps({ metrics });
    await addMachine(deps, { ...definition(), name: 'once' });
    await addMachine(deps, { ...definition(), name: 'once' });
    expect(metrics.counts).to.deep.equal(['MachinesStarted']);
    expect(await handleDeadLetter(deps, { id: 'once', version: 0, attempt: 1 }, 5)).to.equal('failed');
    expect(metrics.counts).to.deep.equal(['MachinesStarted', 'DeadLettered', 'MachinesFailed']);
  });
});
