import type { Json } from './definition';
import { CallbackNotFoundError, ConflictError } from './errors';
import {
  byCaller,
  compareSteps,
  type HistoryEvent,
  type MachineRecord,
  type StepCarrier,
  stepOf,
  withEvent,
} from './machine';
import { type Commit, clearStep, failure, resume, type StepContext } from './step';
import { nextDeadline } from './wait';

/** What a callback token says it answers: the machine (as created) and the step it was minted for. */
export interface TokenClaim {
  id: string;
  createdAt: string;
  step: StepCarrier;
}

/** Why a token answers nothing now: `details.reason` of its 409 (docs/design.md "Callbacks"). */
export type OverReason = 'deleted' | 'not-parked-yet' | 'over' | 'timed-out' | 'heartbeat-missed';

const over = (reason: OverReason, message: string, record?: MachineRecord) =>
  new ConflictError(message, {
    reason,
    ...(record ? { status: record.status, state: record.state, version: record.version } : {}),
  });

/**
 * The PARKED record whose wait `claim` answers, or why there is none: 409 when the wait is over
 * (the machine gone, or moved on past it: answered, timed out, failed, redriven) or has not
 * started yet (the parking step's commit has not landed: try again), 404 when the token is not
 * authentic (`authentic` checks its MAC against the record's key, in constant time). A wait past
 * its deadline is over even before the deadline's message expires it: no answer lands late.
 */
export function waitAnswered(
  record: MachineRecord | undefined,
  claim: TokenClaim,
  authentic: (record: MachineRecord) => boolean,
  now: number,
): MachineRecord {
  if (!record || record.createdAt !== claim.createdAt) {
    throw over('deleted', `machine '${claim.id}' of this callback token is deleted`);
  }
  if (!authentic(record)) throw new CallbackNotFoundError();
  if (record.removing) throw over('deleted', `machine '${claim.id}' is being deleted`, record);
  if (record.status === 'PARKED' && record.wait && compareSteps(claim.step, record.wait.step) === 0) {
    const deadline = nextDeadline(record.wait);
    if (deadline && Date.parse(deadline.at) <= now) {
      throw over(deadline.reason, `the wait of this callback token is over: its deadline was ${deadline.at}`, record);
    }
    return record;
  }
  if (record.status === 'RUNNING' && compareSteps(claim.step, stepOf(record)) === 0) {
    throw over('not-parked-yet', `the step of this callback token has not parked (yet): try again`, record);
  }
  throw over('over', `the wait of this callback token is over: machine '${claim.id}' is ${record.status}`, record);
}

const withBy = (commit: Commit, by: string | undefined): Commit => ({
  ...commit,
  record: { ...commit.record, lastEvent: { ...commit.record.lastEvent, ...byCaller(by) } },
});

/** A wait answered with success: the machine resumes as `POST /machines/{id}/resume` resumes it. */
export function answerWait(
  record: MachineRecord,
  input: { object?: Json; state?: string },
  context: StepContext,
  by?: string,
): Commit {
  return resume(record, input, context, by);
}

/** A wait answered with failure: the parked state failed with `error` (catch, else FAILED). */
export function failWait(record: MachineRecord, error: string, context: StepContext, by?: string): Commit {
  return withBy(failure(clearStep(record), error, context, 'callback-failed'), by);
}

/** A wait whose deadline passed: it fails saying so (catch, else FAILED). */
export function expireWait(record: MachineRecord, context: StepContext): Commit {
  const deadline = nextDeadline(record.wait);
  const error =
    deadline?.reason === 'heartbeat-missed'
      ? `heartbeat missed: no heartbeat or answer within ${record.wait?.heartbeatSeconds} s (due ${deadline.at})`
      : `timed out: no answer by the park's timeout (${deadline?.at})`;
  return failure(clearStep(record), error, context, deadline?.reason ?? 'timed-out');
}

/**
 * A heartbeat: the wait's heartbeat deadline starts again from now. A commit like any other (so
 * it races the deadline's expiry on the record's `seq`, and one of them wins), sending nothing:
 * the deadline's message, when it comes, finds the later deadline and waits on.
 */
export function beat(record: MachineRecord, context: StepContext, by?: string): Commit {
  const wait = record.wait;
  if (!wait?.heartbeatSeconds) {
    throw new ConflictError(`machine '${record.id}' waits without a heartbeat`, { reason: 'no-heartbeat' });
  }
  const event: Omit<HistoryEvent, 'seq' | 'at'> = {
    outcome: 'heartbeat',
    version: record.version,
    from: record.state,
    ...byCaller(by),
  };
  const { pendingEvents: _held, lease: _lease, ...rest } = record;
  return {
    record: {
      ...rest,
      wait: { ...wait, heartbeatAt: new Date(context.now + wait.heartbeatSeconds * 1000).toISOString() },
      ...withEvent(record, event, context.now),
    },
  };
}
