import { expect } from 'chai';
import { ApiClient } from '../../../client/apiClient';
import { isFinished } from '../../../domain/machine';
import type { RequestRecord } from '../../../plugins/serverless-offline-emulators/src/recorder';
import { exampleWorkflow } from '../../helpers/api';
import { readRequestLog } from '../../helpers/iamSimulation';
import type { LocalStack } from '../../helpers/localStack';
import { startOwnTestStack } from '../../helpers/stack';

/**
 * Lambda throttling, emulated: a stack of its own whose Lambda endpoint lets at most 2 invokes of
 * a function run at once (SLS_OFFLINE_INVOKE_CONCURRENCY=2) and answers the rest 429
 * TooManyRequestsException. The transition processor (8 pollers) runs 50 machines of the example
 * workflow through it: throttled steps are given back and re-sent, never counted as attempts.
 */
describe('throttled state handlers (emulated Lambda concurrency cap of 2)', () => {
  let stack: LocalStack;
  let client: ApiClient;

  before(async function () {
    this.timeout(120_000);
    stack = await startOwnTestStack({ env: { SLS_OFFLINE_INVOKE_CONCURRENCY: '2' } });
    client = new ApiClient({ endpoint: stack.apiUrl });
  });

  after(async function () {
    this.timeout(30_000);
    await stack?.stop();
  });

  it('50 machines all succeed, every step on attempt 1 with no retry, while invokes were throttled', async function () {
    this.timeout(180_000);
    const ids = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const answer = await client.send<{ id: string }>('POST', '/machines', exampleWorkflow({ n: i }));
        expect(answer.status).to.equal(201);
        return answer.body?.id as string;
      }),
    );
    const deadline = Date.now() + 150_000;
    let pending = [...ids];
    while (pending.length > 0 && Date.now() < deadline) {
      const states = await Promise.all(pending.map((id) => client.send<{ status: string }>('GET', `/machines/${id}`)));
      pending = pending.filter((_, i) => !isFinished(states[i]?.body?.status as never));
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(pending, 'machines still running').to.deep.equal([]);
    const machines = await Promise.all(
      ids.map((id) => client.send<{ status: string; attempt: number }>('GET', `/machines/${id}`)),
    );
    expect(machines.map((m) => m.body?.status)).to.deep.equal(Array(50).fill('SUCCEEDED'));
    expect(machines.map((m) => m.body?.attempt)).to.deep.equal(Array(50).fill(1));
    const histories = await Promise.all(ids.map((id) => client.history(id)));
    const retries = histories.flatMap((h) => h.events.filter((e) => e.outcome === 'retry' || (e.attempt ?? 1) > 1));
    expect(retries).to.deep.equal([]);

    const records = await readRequestLog(stack.requestLog as string);
    const throttles = records.filter(
      (r): r is RequestRecord => r.kind === 'request' && r.service === 'lambda' && r.status === 429,
    );
    console.log(
      `      ${throttles.length} invokes throttled (TooManyRequestsException) of ${
        records.filter((r) => r.kind === 'request' && r.service === 'lambda').length
      } invokes by the transition processor`,
    );
    expect(throttles.length).to.be.greaterThan(0);
    expect(throttles.every((t) => t.function === 'transition' && t.error === 'TooManyRequestsException')).to.equal(
      true,
    );
  });
});
