import { ConflictError, MachineNotFoundError } from '../../domain/errors';
import { API_LEASE_SECONDS } from '../../domain/limits';
import type { Lease, MachineRecord } from '../../domain/machine';
import type { Commit } from '../../domain/step';
import { createCommitExecutor } from './commitExecutor';
import type { ApiDeps } from './ports';

/**
 * An API action that moves a machine as a step does (resume, redrive, wake): the commit executor
 * claims the step it read with a short lease (which writes the previous event to the history),
 * sends the next message and commits. The commit fails if the machine changed since it
 * was read, so a commit computed from that read lands only on the record it was computed from.
 */
export async function commitAsApi(
  deps: ApiDeps,
  read: MachineRecord,
  commit: Commit,
  action: string,
): Promise<MachineRecord> {
  const outcome = await createCommitExecutor(deps).claimAndCommit(read, apiLease(deps, deps.now()), commit);
  if (outcome === undefined) throw changedMeanwhile(read.id, action);
  if (outcome.kind === 'deleted') throw new MachineNotFoundError(read.id);
  if (outcome.kind !== 'committed') throw changedMeanwhile(read.id, action);
  return outcome.record;
}

/** A lease the API takes on a step: it outlives the API function's own timeout (docs/design.md#lease). */
export const apiLease = (deps: Pick<ApiDeps, 'newId'>, now: number): Lease => ({
  token: deps.newId(),
  until: now + API_LEASE_SECONDS * 1000,
});

const changedMeanwhile = (id: string, action: string) =>
  new ConflictError(`machine '${id}' changed while ${action} it; try again`);
