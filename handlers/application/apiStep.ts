import { ConflictError, MachineNotFoundError } from '../../domain/errors';
import { API_LEASE_SECONDS } from '../../domain/limits';
import { type MachineRecord, type ScheduledStep, stepOf } from '../../domain/machine';
import { createCommitExecutor } from './commitExecutor';
import type { ApiDeps, StepKey } from './ports';

/**
 * An API action that moves a machine as a step does (redrive, wake; resume is the model): claim
 * the step it read with a short lease, then let the commit executor write the history, send the
 * next message and commit. The claim fails if the machine changed since it was read, so the
 * commit computed from that read is still the right one when it lands.
 */
export async function commitAsApi(
  deps: ApiDeps,
  read: MachineRecord,
  claim: Pick<StepKey, 'status' | 'waiting'>,
  commit: { record: MachineRecord; send: ScheduledStep },
  action: string,
): Promise<MachineRecord> {
  const now = deps.now();
  const lease = { token: deps.newId(), until: now + API_LEASE_SECONDS * 1000 };
  const claimed = await deps.store.claimStep({ ...stepOf(read), ...claim }, lease, now);
  if (!claimed) throw changedMeanwhile(read.id, action);
  const outcome = await createCommitExecutor(deps).commitClaimed({ record: claimed, lease }, async () => commit);
  if (outcome.kind === 'deleted') throw new MachineNotFoundError(read.id);
  if (outcome.kind !== 'committed') throw changedMeanwhile(read.id, action);
  return outcome.record;
}

const changedMeanwhile = (id: string, action: string) =>
  new ConflictError(`machine '${id}' changed while ${action} it; try again`);
