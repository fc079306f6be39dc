import type { Json } from '../../domain/definition';
import { MachineNotFoundError } from '../../domain/errors';
import type { MachineRecord } from '../../domain/machine';
import { resume } from '../../domain/step';
import { answerCallback } from './answerCallback';
import { commitAsApi } from './apiStep';
import type { ApiDeps } from './ports';

/**
 * Wakes a PARKED machine, as a step is committed: claim, send, then commit, so the message can
 * never be lost and one that arrives early is only deferred. With `token`, only the wait that
 * token belongs to (application/answerCallback.ts).
 */
export async function resumeMachine(
  deps: ApiDeps,
  id: string,
  input: { object?: Json; state?: string; token?: string },
  by?: string,
): Promise<MachineRecord> {
  const { token, ...change } = input;
  if (token !== undefined) return answerCallback(deps, token, { kind: 'resume', ...change }, by, id);
  const record = await deps.store.getWithLease(id);
  if (!record) throw new MachineNotFoundError(id);
  const commit = resume(record, change, { now: deps.now(), maxQueueDelaySeconds: deps.maxQueueDelaySeconds }, by);
  return commitAsApi(deps, record, commit, 'resuming');
}
