import { type Lease, type MachineRecord, type StepCarrier, type StepMessage, stepOf } from '../../domain/machine';
import type { Commit } from '../../domain/step';
import type { MachineStore, StepQueue } from './ports';
import { removeMachine } from './removeMachine';

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

export type CommitOutcome =
  /** `carried`: the next step is due at once and was committed with the carrier, nothing sent. */
  | { kind: 'committed'; record: MachineRecord; carried: boolean }
  /** The machine was being removed: the commit fell to us, so the machine is now deleted. */
  | { kind: 'deleted' }
  /** Someone else moved the machine on, or our lease ran out; `current` is what is stored now. */
  | { kind: 'refused'; current?: MachineRecord }
  /** There was nothing to commit: the lease was given back, the step is as it was. */
  | { kind: 'released' };

export interface CommitExecutor {
  /**
   * Commits a claimed step. `produce` computes the commit (for a step: invoke the state's function
   * and apply the rules); when it gives nothing to commit, the lease is given back.
   */
  commitClaimed(
    claimed: ClaimedStep,
    produce: () => Promise<Commit | undefined>,
    carrier?: StepCarrier,
  ): Promise<CommitOutcome>;
  /** Commits `next` over `record` if nothing was committed since it was read (no lease, no message). */
  commitUnclaimed(record: MachineRecord, next: MachineRecord): Promise<boolean>;
}

/**
 * The only code that carries out a commit, in the order the exactly-once argument needs
 * (docs/design.md#invariants-and-exactly-once). The claim wrote the event of the commit about
 * to be replaced to the history; then:
 * 1. the next step's message is sent, before the commit, so a committed step always has one;
 *    or, for a next step due at once when the caller runs on (`carrier`), the record names the
 *    message the caller holds as the one carrying it, and nothing is sent (docs/design.md#run-on);
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

  async function commitClaimed(
    { record, lease }: ClaimedStep,
    produce: () => Promise<Commit | undefined>,
    carrier?: StepCarrier,
  ): Promise<CommitOutcome> {
    const step: StepMessage = stepOf(record);
    const release = () => store.releaseClaim(record, lease.token);
    let commit: Commit | undefined;
    let carried = false;
    try {
      commit = await produce();
      carried = carrier !== undefined && commit?.send?.delaySeconds === 0 && commit.record.wakeAt === undefined;
      if (carried && commit) commit = { record: { ...commit.record, carrier } };
      if (commit?.send) await queue.send(commit.send);
    } catch (error) {
      await release().catch(() => undefined);
      throw error;
    }
    if (!commit) {
      await release();
      return { kind: 'released' };
    }
    if (commit.send) faults?.afterSend?.(step);
    // Past its lease the step may be someone else's: a writer that can no longer commit.
    const committed = deps.now() < lease.until && (await store.commit(commit.record, { seq: record.seq }));
    if (!committed) return afterRefusal(record.id);
    faults?.afterCommit?.(step);
    return { kind: 'committed', record: commit.record, carried } as const;
  }

  async function afterRefusal(id: string): Promise<CommitOutcome> {
    const current = await store.get(id);
    if (current?.removing) {
      await removeMachine(deps, current);
      return { kind: 'deleted' };
    }
    return current ? { kind: 'refused', current } : { kind: 'refused' };
  }

  async function commitUnclaimed(record: MachineRecord, next: MachineRecord) {
    await store.writeLatestEvent(record);
    return store.commit(next, { seq: record.seq });
  }

  return { commitClaimed, commitUnclaimed };
}
