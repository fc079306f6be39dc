import { expect } from 'chai';
import { PollTimeoutError, pollUntil } from '../../../client/poll';

describe('pollUntil', () => {
  it('reads until done holds and returns that value, pausing intervalMs between reads', async () => {
    let reads = 0;
    const started = Date.now();
    const value = await pollUntil(
      async () => ++reads,
      (n) => n === 3,
      { intervalMs: 20 },
    );
    expect([value, reads]).to.deep.equal([3, 3]);
    expect(Date.now() - started).to.be.at.least(35);
  });

  it('reads once when done holds at once', async () => {
    let reads = 0;
    expect(
      await pollUntil(
        async () => ++reads,
        () => true,
        { timeoutMs: 0 },
      ),
    ).to.equal(1);
  });

  it('throws PollTimeoutError with what it waited for and the last value after the deadline', async () => {
    let reads = 0;
    const error = (await pollUntil(
      async () => ({ reads: ++reads }),
      () => false,
      { timeoutMs: 200, intervalMs: 10, what: 'nothing' },
    ).catch((e: unknown) => e)) as PollTimeoutError<{ reads: number }>;
    expect(error).to.be.instanceOf(PollTimeoutError);
    expect(error.last.reads).to.equal(reads);
    // At least one read after the first: how many more depends on the timers of a loaded machine
    // (expecting 3 within 50 ms failed with every core busy).
    expect(reads).to.be.at.least(2);
    expect(error.message).to.equal(`timed out after 200 ms waiting for nothing; last value: {"reads":${reads}}`);
  });

  it('ends with the error of a read', async () => {
    let reads = 0;
    const read = async () => {
      if (++reads === 2) throw new Error('gone');
      return reads;
    };
    const error = await pollUntil(read, () => false, { intervalMs: 1 }).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('gone');
    expect(reads).to.equal(2);
  });
});
