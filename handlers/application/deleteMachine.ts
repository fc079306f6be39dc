import { ConflictError, MachineNotFoundError } from '../../domain/errors';
import { historyKey } from '../../domain/machine';
import { requestRemoval } from '../../domain/step';
import { apiLease } from './apiStep';
import { createCommitExecutor } from './commitExecutor';
import type { ApiDeps } from './ports';
import { purgeHistory, removeMachine } from './removeMachine';

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
    const record = await store.get(id);
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
    // Deleting takes the step as a writer would, so no handler can start on it after the read.
    const lease = apiLease(deps, now);
    if (!(await store.claim(record, lease, now))) continue;
    if (await store.deleteRecord(record)) {
      await purgeHistory(deps, historyKey(record));
      return 'deleted';
    }
    // Another delete found our lease and marked the machine for its holder to remove: us.
    const current = await store.get(id);
    if (current?.removing && current.lease?.token === lease.token) {
      await removeMachine(deps, current);
      return 'deleted';
    }
  }
  throw new ConflictError(`machine '${id}' kept changing while deleting it; try again`, { id });
}
