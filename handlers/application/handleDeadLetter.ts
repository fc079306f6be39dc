import type { MachineRecord, StepMessage } from '../../domain/machine';
import { deadLetter } from '../../domain/step';
import { createCommitExecutor } from './commitExecutor';
import type { ApiDeps } from './ports';
import { removeMachine } from './removeMachine';

/** Rounds of read-and-write before leaving the message to SQS to deliver again. */
const ROUNDS = 3;

/**
 * What the dead-letter queue's consumer does with a step message SQS gave up on: fail the
 * machine that waits for it (docs/design.md#gaps). Throws when the machine kept changing, so
 * SQS delivers the message again.
 */
export async function handleDeadLetter(
  deps: ApiDeps,
  message: StepMessage,
  receives: number,
): Promise<'ignored' | 'deleted' | 'failed'> {
  const executor = createCommitExecutor(deps);
  for (let round = 0; round < ROUNDS; round++) {
    const record = await deps.store.getWithLease(message.id);
    const outcome = deadLetter(record, message, receives, {
      now: deps.now(),
      maxQueueDelaySeconds: deps.maxQueueDelaySeconds,
    });
    if (outcome.action === 'ignore') return 'ignored';
    if (outcome.action === 'later') break;
    if (outcome.action === 'delete') {
      await removeMachine(deps, record as MachineRecord);
      return 'deleted';
    }
    if (await executor.commitUnclaimed(record as MachineRecord, outcome.record)) {
      deps.metrics?.count('DeadLettered');
      deps.metrics?.count('MachinesFailed');
      return 'failed';
    }
  }
  throw new Error(`machine '${message.id}' is busy or kept changing; its dead-lettered step comes back later`);
}
