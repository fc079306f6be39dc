import {
  historyKey,
  type Lease,
  type MachineRecord,
  type ScheduledStep,
  type StepCarrier,
  type StepMessage,
  stepOf,
  unwrittenEvents,
} from '../../domain/machine';
import type { Commit } from '../../domain/step';
import { sameWrite } from '../../domain/writeIdentity';
import type { MachineStore, StepQueue } from './ports';
import { purgeHistory, removeMachine } from './removeMachine';

/**
 * Places where the fault suite can make a commit "crash" (throw). Off unless a test passes them;
 * deployed functions never do.
 */
export interface FaultPoints {
  afterSend?: (message: StepMessage) => void;
  afterCommit?: (message: StepMessage) => void;
}

/** A step someone holds: the record as claimed, and the lease that claims it. */
export interface ClaimedStep {
  record: MachineRecord;
  lease: Lease;
}

/** How a caller that runs on takes a next step due at once (docs/design.md#run-on). */
export interface RunOn {
  /** The message the caller holds: named in the record as the carrier of a step committed without one. */
  carrier: StepCarrier;
  /** A lease to run `next` with here, if there is time for its invoke; without one it gets its own message. */
  leaseFor(next: MachineRecord): Lease | undefined;
}

export type CommitOutcome =
  /**
   * `runOn`: the next step, due at once, committed with our lease in the record and the carrier,
   * nothing sent: ours to run.
   */
  | { kind: 'committed'; record: MachineRecord; runOn?: ClaimedStep }
  /** The machine was being removed: the commit fell to us, so the machine is now deleted. */
  | { kind: 'deleted' }
  /** Someone else moved the machine on, or our lease ran out; `current` is what is stored now. */
  | { kind: 'refused'; current?: MachineRecord }
  /** There was nothing to commit: the lease was given back, the step is as it was. */
  | { kind: 'released' };

export interface CommitExecutor {
  /**
   * Claims the record's step with `lease`, then reads the record again: the step is ours only if
   * the record is still the write claimed (a step runs a handler: none may start on a version
   * committed past or deleted between the read and the claim). False, nothing held, otherwise.
   */
  claim(record: MachineRecord, lease: Lease): Promise<boolean>;
  /**
   * Claims the step an API action read and commits `commit` over it (no handler runs: the
   * commit's condition is the check). Undefined when someone holds the step.
   */
  claimAndCommit(read: MachineRecord, lease: Lease, commit: Commit): Promise<CommitOutcome | undefined>;
  /**
   * Commits a claimed step. `produce` computes the commit (for a step: invoke the state's function
   * and apply the rules); when it gives nothing to commit, the lease is given back.
   */
  commitClaimed(
    claimed: ClaimedStep,
    produce: () => Promise<Commit | undefined>,
    runOn?: RunOn,
  ): Promise<CommitOutcome>;
  /** Commits `next` over `record` if nothing was committed since it was read (no lease, no message). */
  commitUnclaimed(record: MachineRecord, next: MachineRecord): Promise<boolean>;
  /**
   * Deletes the machine as read, taking its step as a writer would so no handler starts on it
   * after the read. False when someone holds the step or the record changed: read again.
   */
  claimAndDelete(record: MachineRecord, lease: Lease): Promise<boolean>;
}

/**
 * The only code that claims a step and carries out a commit, in the order the exactly-once
 * argument needs (docs/design.md#invariants-and-exactly-once), top to bottom: claim -> produce ->
 * send -> commit -> refused. The claim puts our lease and the events the record holds on the
 * step's history item (docs/design.md#the-claim); `produce` computes the commit. The events the
 * claimed record holds are then in the history (the claim wrote them), or carried on in the
 * committed record, or written now (I7); then:
 * 1. the next step's message is sent, before the commit, so a committed step always has one;
 *    or, for a next step due at once when the caller runs on, the record names the message the
 *    caller holds as its carrier and holds the caller's lease on it, and nothing is sent
 *    (docs/design.md#run-on);
 * 2. the record is replaced on condition (nothing committed since it was read, not removing),
 *    and for a claimed step only while its lease is live;
 * 3. a refused commit is re-read: a machine being removed is deleted, anything else is reported.
 * A failure before 2 gives the lease back, so the step's message can be retried at once.
 */
export function createCommitExecutor(deps: {
  store: MachineStore;
  queue: StepQueue;
  now: () => number;
  faults?: FaultPoints;
}): CommitExecutor {
  const { store, queue, faults } = deps;

  async function claim(record: MachineRecord, lease: Lease): Promise<boolean> {
    if (!(await store.claim(record, lease, deps.now()))) return false;
    if (sameWrite(await store.getRecordOnly(record.id), record)) return true;
    await store.releaseClaim(record, lease.token);
    return false;
  }

  async function claimAndCommit(read: MachineRecord, lease: Lease, commit: Commit): Promise<CommitOutcome | undefined> {
    if (!(await store.claim(read, lease, deps.now()))) return undefined;
    return commitClaimed({ record: read, lease }, async () => commit);
  }

  async function commitClaimed(
    { record, lease }: ClaimedStep,
    produce: () => Promise<Commit | undefined>,
    runOn?: RunOn,
  ): Promise<CommitOutcome> {
    const step: StepMessage = stepOf(record);
    const release = () => store.releaseClaim(record, lease.token);
    let next: MachineRecord | undefined;
    let send: ScheduledStep | undefined;
    let nextLease: Lease | undefined;
    try {
      const commit = await produce();
      if (commit) {
        nextLease = runOn && isDueAtOnce(commit) ? runOn.leaseFor(commit.record) : undefined;
        next = await withHistory(
          { record, lease },
          runOn && nextLease ? { ...commit.record, carrier: runOn.carrier, lease: nextLease } : commit.record,
        );
        send = nextLease ? undefined : commit.send;
        if (send) await queue.send(send);
      }
    } catch (error) {
      await release().catch(() => undefined);
      throw error;
    }
    if (!next) {
      await release();
      return { kind: 'released' };
    }
    if (send) faults?.afterSend?.(step);
    // Past its lease the step may be someone else's: a writer that can no longer commit.
    const committed = deps.now() < lease.until && (await store.commit(next, { seq: record.seq }));
    if (!committed) {
      const current = await store.getWithLease(record.id);
      if (current?.removing) {
        await removeMachine(deps, current);
        return { kind: 'deleted' };
      }
      // Our commit landed after all (its response lost, the SDK's retry refused) when the record
      // holds the lease only we made; anything else moved the step on, or has yet to redo it.
      if (!nextLease || current?.lease?.token !== nextLease.token) {
        return current ? { kind: 'refused', current } : { kind: 'refused' };
      }
    }
    faults?.afterCommit?.(step);
    return nextLease
      ? { kind: 'committed', record: next, runOn: { record: next, lease: nextLease } }
      : { kind: 'committed', record: next };
  }

  /**
   * `next` as it is written. A step held by a lease in its record (a chain's) was never claimed,
   * so no claim wrote the events that record holds: they ride on in `next` while that costs its
   * put no write unit (it is billed per started KB), or are written to the history first (I7).
   */
  async function withHistory({ record, lease }: ClaimedStep, next: MachineRecord): Promise<MachineRecord> {
    if (record.lease?.token !== lease.token) return next;
    const carrying: MachineRecord = { ...next, pendingEvents: unwrittenEvents(record) };
    if (store.writeUnits(carrying) === store.writeUnits(next)) return carrying;
    await store.writeRecordEvents(record);
    return next;
  }

  async function commitUnclaimed(record: MachineRecord, next: MachineRecord) {
    await store.writeRecordEvents(record);
    return store.commit(next, { seq: record.seq });
  }

  async function claimAndDelete(record: MachineRecord, lease: Lease): Promise<boolean> {
    if (!(await store.claim(record, lease, deps.now()))) return false;
    if (await store.deleteRecord(record)) {
      await purgeHistory(deps, historyKey(record));
      return true;
    }
    // Another delete found our lease and marked the machine for its holder to remove: us.
    const current = await store.getWithLease(record.id);
    if (!current?.removing || current.lease?.token !== lease.token) return false;
    await removeMachine(deps, current);
    return true;
  }

  return { claim, claimAndCommit, commitClaimed, commitUnclaimed, claimAndDelete };
}

/** A commit whose next step is due at once: one a caller that runs on can run next. */
const isDueAtOnce = (commit: Commit) => commit.send?.delaySeconds === 0 && commit.record.wakeAt === undefined;
