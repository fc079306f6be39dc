import { expect } from 'chai';
import { LEFTOVER_BASE_MS, LEFTOVER_CAP_MS, LEFTOVER_TRIES } from '../../domain/limits';
import { leftoverWaitMs, sendUntilProcessed } from '../../handlers/adapters/dynamodb/leftovers';

describe('batch leftovers (BatchWriteItem / BatchGetItem)', () => {
  /** A send that leaves the last item of each batch unprocessed `refusals` times, recording every batch. */
  function leavingLast(refusals: number) {
    const sent: string[][] = [];
    let left = refusals;
    const send = async (items: string[]) => {
      sent.push(items);
      if (left === 0) return undefined;
      left -= 1;
      return items.slice(-1);
    };
    return { sent, send };
  }

  it('sends the leftovers again, after a wait of full jitter under a cap that doubles, until none is left', async () => {
    const waits: number[] = [];
    const { sent, send } = leavingLast(3);
    await sendUntilProcessed(['a', 'b', 'c'], send, 'items', {
      sleep: async (ms) => waits.push(ms),
      random: () => 0.999,
    });
    expect(sent).to.deep.equal([['a', 'b', 'c'], ['c'], ['c'], ['c']]);
    // Just under base x 2^(retry-1): 50, 100, 200 ms.
    expect(waits).to.deep.equal([1, 2, 4].map((m) => Math.floor(0.999 * LEFTOVER_BASE_MS * m)));
  });

  it('waits a random share of the cap (never the same for everyone), and never more than LEFTOVER_CAP_MS', () => {
    expect(leftoverWaitMs(1, () => 0)).to.equal(0);
    expect(leftoverWaitMs(3, () => 0.5)).to.equal(Math.floor(0.5 * 4 * LEFTOVER_BASE_MS));
    expect(leftoverWaitMs(30, () => 0.999_999)).to.be.below(LEFTOVER_CAP_MS);
  });

  it('gives up with an error after LEFTOVER_TRIES sends that left something, so the caller retries', async () => {
    const { sent, send } = leavingLast(Number.POSITIVE_INFINITY);
    let waits = 0;
    const error = await sendUntilProcessed(['a'], send, 'history deletes', {
      sleep: async () => {
        waits += 1;
      },
      random: () => 0,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(String(error)).to.match(new RegExp(`left history deletes unprocessed after ${LEFTOVER_TRIES} tries`));
    expect(sent).to.have.length(LEFTOVER_TRIES);
    expect(waits).to.equal(LEFTOVER_TRIES - 1);
  });
});
