import { createMachine } from '../domain/machine';
import { step } from '../domain/step';
import { noop } from '../test-functions/faulty';
import { testMachine } from '../testing/index';
import { median } from './stats';

/** Operations per second of the pure transition step: validate a result, compute the next record and message. */
export function benchDomainStep({ rounds = 5, millisPerRound = 300 } = {}): number {
  const { record } = createMachine(
    {
      state: 'A',
      object: { orderId: 42, items: [1, 2, 3], customer: { name: 'x', tier: 'gold' } },
      config: { A: 'prepare', B: 'task-1' },
      options: { retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 }, retentionDays: 7 },
    },
    { id: 'bench', now: Date.now() },
  );
  const leased = { ...record, lease: { token: 't', until: Date.now() + 60_000 } };
  const outcome = { kind: 'returned' as const, payload: { state: 'B', object: { orderId: 42, done: true }, delay: 5 } };
  const clock = { now: Date.now(), maxQueueDelaySeconds: 900 };
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let operations = 0;
    const started = performance.now();
    while (performance.now() - started < millisPerRound) {
      for (let i = 0; i < 1000; i++) step(leased, outcome, clock);
      operations += 1000;
    }
    rates.push(operations / ((performance.now() - started) / 1000));
  }
  return median(rates);
}

/**
 * No-op machine steps per second of the test kit (testing/, docs/testing.md "Throughput"): machines of
 * `steps` steps run one after another in this process, on virtual time. The median of `rounds`,
 * after one round that warms the JIT up (a test suite's first machines pay for that once).
 */
export async function benchTestKit({ rounds = 3, machines = 50, steps = 100 } = {}): Promise<number> {
  const rates: number[] = [];
  for (let round = -1; round < rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < machines; i++) {
      await testMachine({ state: 'S', object: { steps }, config: { S: 'noop' } }, { noop });
    }
    if (round >= 0) rates.push((machines * steps) / ((performance.now() - started) / 1000));
  }
  return median(rates);
}
