import type { MachineRecord, Wait } from './machine';

/** What a park may add to `delay: -1`, in seconds (docs/design.md "Deadlines"). */
export interface WaitDeadlines {
  timeout?: number;
  heartbeat?: number;
}

/** Seconds between two clocks, rounded up: a deadline never fires early. */
const secondsFrom = (now: number, at: string) => Math.ceil((Date.parse(at) - now) / 1000);

const isoIn = (now: number, seconds: number) => new Date(now + seconds * 1000).toISOString();

/**
 * The wait a step that parks with `deadlines` starts: it names the parking step (whose
 * callbackToken answers it), and `firstDeadlineSeconds`, when it has a deadline, is how far
 * away the first of them is: its message is sent with that delay.
 */
export function parkedWait(
  parking: Pick<MachineRecord, 'version' | 'attempt' | 'woken'>,
  deadlines: WaitDeadlines,
  now: number,
): { wait: Wait; firstDeadlineSeconds?: number } {
  const { version, attempt, woken } = parking;
  const wait: Wait = { step: woken ? { version, attempt, woken } : { version, attempt } };
  if (deadlines.timeout !== undefined) wait.timeoutAt = isoIn(now, deadlines.timeout);
  if (deadlines.heartbeat !== undefined) {
    wait.heartbeatSeconds = deadlines.heartbeat;
    wait.heartbeatAt = isoIn(now, deadlines.heartbeat);
  }
  const seconds = [deadlines.timeout, deadlines.heartbeat].filter((s): s is number => s !== undefined);
  return seconds.length === 0 ? { wait } : { wait, firstDeadlineSeconds: Math.min(...seconds) };
}

/** The wait's nearest deadline and what passing it means; none for a wait without deadlines. */
export function nextDeadline(
  wait: Wait | undefined,
): { at: string; reason: 'timed-out' | 'heartbeat-missed' } | undefined {
  const candidates = [
    wait?.timeoutAt === undefined ? undefined : { at: wait.timeoutAt, reason: 'timed-out' as const },
    wait?.heartbeatAt === undefined ? undefined : { at: wait.heartbeatAt, reason: 'heartbeat-missed' as const },
  ].filter((c) => c !== undefined);
  return candidates.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
}

/**
 * What the processor does with the message of a PARKED machine's deadline, found unleased on
 * its parked step: wait on (in hops of at most maxQueueDelaySeconds, as a delay does, and after a
 * heartbeat moved the deadline), or expire it. None when the wait has no deadline: the message is
 * stale (it was the resume's, whose commit never landed).
 */
export function waitDecision(
  record: MachineRecord,
  context: { now: number; maxQueueDelaySeconds: number },
):
  | { action: 'wait'; delaySeconds: number }
  | { action: 'expire'; reason: 'timed-out' | 'heartbeat-missed' }
  | undefined {
  if (record.status !== 'PARKED') return undefined;
  const deadline = nextDeadline(record.wait);
  if (!deadline) return undefined;
  const remaining = secondsFrom(context.now, deadline.at);
  if (remaining >= 1) return { action: 'wait', delaySeconds: Math.min(remaining, context.maxQueueDelaySeconds) };
  return { action: 'expire', reason: deadline.reason };
}
