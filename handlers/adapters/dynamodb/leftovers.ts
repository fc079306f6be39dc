import { setTimeout as sleep } from 'node:timers/promises';
import { LEFTOVER_BASE_MS, LEFTOVER_CAP_MS, LEFTOVER_TRIES } from '../../../domain/limits';

/** How leftovers wait; tests pass their own clock and dice. */
export interface Backoff {
  sleep: (ms: number) => Promise<unknown>;
  random: () => number;
}

const REAL_BACKOFF: Backoff = { sleep, random: Math.random };

/** The wait before the `retry`-th send of leftovers (1 = the first resend): full jitter. */
export function leftoverWaitMs(retry: number, random: () => number): number {
  return Math.floor(random() * Math.min(LEFTOVER_CAP_MS, LEFTOVER_BASE_MS * 2 ** (retry - 1)));
}

/**
 * Sends `first`, then what each answer left unprocessed (`send` returns it; undefined when
 * nothing is left), waiting before each resend as domain/limits.ts says (docs/design.md "Gaps":
 * DynamoDB leaves items of a batch unprocessed when a partition is busy, and resending at once
 * mostly meets the same busy partition). Throws after LEFTOVER_TRIES sends that left something.
 */
export async function sendUntilProcessed<T>(
  first: T,
  send: (items: T) => Promise<T | undefined>,
  what: string,
  backoff: Backoff = REAL_BACKOFF,
): Promise<void> {
  let items = first;
  for (let tries = 1; ; tries++) {
    const left = await send(items);
    if (left === undefined) return;
    if (tries >= LEFTOVER_TRIES) {
      throw new Error(`DynamoDB left ${what} unprocessed after ${tries} tries; the caller's retry takes over`);
    }
    items = left;
    await backoff.sleep(leftoverWaitMs(tries, backoff.random));
  }
}

/** A batch answer's leftovers of one table, or undefined when there are none. */
export function leftoversOf<T>(left: T[] | undefined): T[] | undefined {
  return left && left.length > 0 ? left : undefined;
}
