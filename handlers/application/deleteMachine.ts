import { ConflictError, MachineNotFoundError } from '../../domain/errors';
import { requestRemoval } from '../../domain/step';
import { apiLease } from './apiStep';
import { createCommitExecutor } from './commitExecutor';
import type { ApiDeps } from './ports';

/** Rounds of read-and-write before giving up on a machine that keeps changing under us. */
const ROUNDS = 5;

/**
 * Deletes a machine at once when no handler runs ('deleted'), or marks it so the transition
 * processor deletes it when the running step ends ('removing'). Never creates anything.
 */
export async function deleteMachine(deps: ApiDeps, id: string, by?: string): Promise<'deleted' | 'removing'> {
  const { store } = deps;
  const executor = createCommitExecutor(deps);
  // Each round re-reads: a handler may start or finish between the read and the conditional write.
  for (let round = 0; round < ROUNDS; round++) {
    const record = await store.getWithLease(id);
    if (!record) throw new MachineNotFoundError(id);
    const now = deps.now();
    const removal = requestRemoval(record, now, by);
    if (removal.action === 'pending') return 'removing';
    if (removal.action === 'mark') {
      // A chain commits a step every few milliseconds, each at a new seq, and holds them all with
      // the lease in its record: marked in place, it sees the mark at whichever step it is on.
      if (record.carrier && (await store.markRemoving(record, now))) return 'removing';
      if (await executor.commitUnclaimed(record, removal.record)) return 'removing';
      continue;
    }
    if (await executor.claimAndDelete(record, apiLease(deps, now))) return 'deleted';
  }
  throw new ConflictError(`machine '${id}' kept changing while deleting it; try again`, { id });
}
