import type { FaultPoints } from '../../handlers/application/commitExecutor';
import type { ApiDeps } from '../../handlers/application/ports';
import { createStepProcessor, type StepProcessorDeps } from '../../handlers/application/stepProcessor';
import { InMemoryMachineStore, RecordingQueue, ScriptedInvoker } from '../../testing/fakes';
import { scope, T0 } from './factories';

// The in-memory ports live in testing/ (the test kit runs the service over them).
export * from '../../testing/fakes';

/** Deps for the API use cases over fakes, at a fixed time. */
export function fakeApiDeps(overrides: Partial<ApiDeps> = {}) {
  let ids = 0;
  const now = () => T0;
  const store = new InMemoryMachineStore();
  const queue = new RecordingQueue();
  const invoker = new ScriptedInvoker([{ kind: 'returned', payload: null }]);
  const deps = {
    store,
    queue,
    invoker,
    now,
    newId: () => `id-${++ids}`,
    maxQueueDelaySeconds: 900,
    ...overrides,
  };
  return { deps, store, queue, invoker };
}

/** A step processor over fakes, on `clock`'s time, its lease tokens `${tokenPrefix}-1`, `-2`, ... */
export function fakeStepProcessor(
  ports: Pick<StepProcessorDeps, 'store' | 'queue' | 'invoker'>,
  options: {
    clock: { now: number };
    leaseSeconds: number;
    tokenPrefix?: string;
    faults?: FaultPoints;
    logStep?: StepProcessorDeps['logStep'];
  },
) {
  let tokens = 0;
  return createStepProcessor({
    ...ports,
    scope,
    leaseSeconds: options.leaseSeconds,
    maxQueueDelaySeconds: 900,
    now: () => options.clock.now,
    newToken: () => `${options.tokenPrefix ?? 'token'}-${++tokens}`,
    faults: options.faults,
    logStep: options.logStep,
  });
}
