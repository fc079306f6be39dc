/** Polling with a deadline: the CLI's `watch`, the benchmark's wait and the tests' waitFor. */

export interface PollOptions {
  /** Give up after this long; Infinity polls until `done`. 30 s unless told. */
  timeoutMs?: number;
  /** Pause between reads. 100 ms unless told. */
  intervalMs?: number;
  /** Names what is awaited, for the timeout's message. */
  what?: string;
}

/** `done` never held before the deadline; `last` is the value read last. */
export class PollTimeoutError<T = unknown> extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly last: T,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    this.name = 'PollTimeoutError';
  }
}

/**
 * Calls `read` until `done` holds for its value and returns that value; reads once more at most
 * every `intervalMs`. An error from `read` ends the polling with that error.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new PollTimeoutError(what, timeoutMs, last);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    last = await read();
  }
  return last;
}
