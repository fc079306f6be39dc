import type { Json } from '../../domain/definition';
import { ConflictError, MachineNotFoundError } from '../../domain/errors';
import { API_LEASE_SECONDS } from '../../domain/limits';
import type { MachineRecord } from '../../domain/machine';
import { resume } from '../../domain/step';
import { createCommitExecutor } from './commitExecutor';
import type { ApiDeps } from './ports';

/**
 * Wakes a PARKED machine, as a step is committed: claim, send, then commit, so the message can
 * never be lost and one that arrives early is only deferred.
 */
export async function resumeMachine(
  deps: ApiDeps,
  id: string,
  input: { object?: Json; state?: string },
): Promise<MachineRecord> {
  const record = await deps.store.get(id);
  if (!record) throw new MachineNotFoundError(id);
  const now = deps.now();
  const commit = resume(record, input, { now, maxQueueDelaySeconds: deps.maxQueueDelaySeconds });
  const lease = { token: deps.newId(), until: now + API_LEASE_SECONDS * 1000 };
  const claimed = await deps.store.claimStep(record, lease, now);
  if (!claimed) throw changedMeanwhile(id);
  const outcome = await createCommitExecutor(deps).commitClaimed({ record: claimed, lease }, async () => commit);
  if (outcome.kind === 'deleted') throw new MachineNotFoundError(id);
  if (outcome.kind !== 'committed') throw changedMeanwhile(id);
  return outcome.record;
}

const changedMeanwhile = (id: string) => new ConflictError(`machine '${id}' changed while resuming it; try again`);
