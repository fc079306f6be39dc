import { expireWait } from '../../domain/callback';
import { DEFER_SECONDS } from '../../domain/limits';
import type { Lease, MachineRecord, StepMessage } from '../../domain/machine';
import type { StepContext } from '../../domain/step';
import { nextDeadline } from '../../domain/wait';
import type { CommitExecutor } from './commitExecutor';
import type { MessageDisposition } from './disposition';
import { NO_METRICS, recordCommit, type StepMetrics } from './metrics';
import type { MachineStore, StepQueue } from './ports';

/**
 * The message of a park's deadline found the deadline passed (domain/wait.ts): the wait fails,
 * committed as a step is (claim, commit on the record's `seq`), so it races an answer or a
 * heartbeat and exactly one of them lands. When it loses (or cannot claim), the message goes back
 * on the queue to decide again: a heartbeat moved the deadline, or an answer made it stale.
 */
export async function expireWaitStep(
  deps: {
    store: MachineStore;
    queue: StepQueue;
    executor: CommitExecutor;
    now: () => number;
    newLease: () => Lease;
    context: () => StepContext;
    metrics?: StepMetrics;
  },
  record: MachineRecord,
  message: StepMessage,
): Promise<MessageDisposition> {
  const lease = deps.newLease();
  if (await deps.store.claim(record, lease, deps.now())) {
    const outcome = await deps.executor.commitClaimed({ record, lease }, async () =>
      expireWait(record, deps.context()),
    );
    if (outcome.kind === 'committed')
      recordCommit(
        deps.metrics ?? NO_METRICS,
        outcome.record,
        Date.parse(nextDeadline(record.wait)?.at ?? record.updatedAt),
        deps.now(),
      );
    if (outcome.kind === 'committed' || outcome.kind === 'deleted') return outcome.kind;
  }
  await deps.queue.send({ message, delaySeconds: DEFER_SECONDS });
  return 'deferred';
}
