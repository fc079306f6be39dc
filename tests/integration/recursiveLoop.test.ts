import { expect } from 'chai';
import { MAX_RECURSIVE_INVOCATIONS } from '../../plugins/serverless-offline-emulators/src/lineage';
import type { InvocationRecord } from '../../plugins/serverless-offline-emulators/src/recorder';
import { api, waitUntilFinished } from '../helpers/api';
import { readRequestLog } from '../helpers/iamSimulation';
import { currentStack } from '../helpers/stack';

/**
 * The event source emulates Lambda's recursive loop detection (it stops a function's 17th
 * invocation along one send-to-self chain): the transition processor sends every step that is
 * not due at once to the queue that triggers it, so only its `recursiveLoop: Allow` lets a
 * machine take more than 16 such steps. (Steps due at once run on in one invocation.)
 */
describe('recursive loop detection (emulated) and the transition processor', () => {
  it(`a machine of ${MAX_RECURSIVE_INVOCATIONS + 2} delayed steps succeeds: the processor's chain went past 16 invocations`, async function () {
    this.timeout(90_000);
    const steps = MAX_RECURSIVE_INVOCATIONS + 2;
    const added = await api('POST', '/machines', {
      object: { steps, delay: 1 },
      config: { COUNT: 'noop' },
      state: 'COUNT',
    });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    const machine = await waitUntilFinished((added.body as { id: string }).id, 60_000);
    expect(machine.status, JSON.stringify(machine.error)).to.equal('SUCCEEDED');
    expect(machine.object).to.deep.include({ step: steps - 1 });

    const { requestLog } = currentStack();
    if (!requestLog) return;
    const invocations = (await readRequestLog(requestLog)).filter(
      (r): r is InvocationRecord => r.kind === 'invocation' && r.function === 'transition',
    );
    const hops = Math.max(...invocations.map((r) => r.hops ?? 0));
    console.log(`      longest chain of transition invocations: ${hops} hops`);
    expect(hops).to.be.at.least(steps);
    expect(invocations.filter((r) => r.error === 'RecursiveInvocationStopped')).to.deep.equal([]);
  });
});
