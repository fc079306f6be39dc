import { ConflictError, MachineNotFoundError } from '../../domain/errors';
import { historyKey } from '../../domain/machine';
import { requestRemoval } from '../../domain/step';
import { apiLease } from './apiStep';
import { createCommitExecutor } from './commitExecutor';
import type { ApiDeps } from './ports';
import { purgeHistory } from './removeMachine';

/** Rounds of read-and-write before giving up on a machine that keeps changing under us. */
const ROUNDS = 5;

/**
 * Deletes a machine at once when no handler runs ('deleted'), or marks it so the transition
 * processor deletes it when the running step ends ('removing'). Never creates anything.
 */
export async function deleteMachine(deps: ApiDeps, id: string): Promise<'deleted' | 'removing'> {
  const { store } = deps;
  const executor = createCommitExecutor(deps);
  // Each round re-reads: a handler may start or finish between the read and the conditional write.
  for (let round = 0; round < ROUNDS; round++) {
    const record = await store.get(id);
    if (!record) throw new MachineNotFoundError(id);
    const now = deps.now();
    const removal = requestRemoval(record, now);
    if (removal.action === 'pending') return 'removing';
    // Deleting takes the step as a writer would, so no handler can start on it after the read.
    if (
      removal.action === 'delete' &&
      (await store.claim(record, apiLease(deps, now), now)) &&
      (await store.deleteRecord(id, record.seq))
    ) {
      await purgeHistory(deps, historyKey(record));
      return 'deleted';
    }
    if (removal.action === 'mark' && (await executor.commitUnclaimed(record, removal.record))) return 'removing';
  }
  throw new ConflictError(`machine '${id}' kept changing while deleting it; try again`, { id });
}
