import type { MachineRecord } from '../../domain/machine';
import { wake } from '../../domain/step';
import { commitAsApi } from './apiStep';
import type { ApiDeps } from './ports';
import { readMachine } from './readMachine';

/**
 * Runs the next step of a RUNNING machine that waits on a delay now instead of at its `wakeAt`
 * (docs/design.md#wake). Exactly one of the woken message and the one the wait scheduled runs
 * the step: the wake commit makes the scheduled one stale. A machine whose step is overdue gets
 * its message again (its own may be lost). 409 for a machine not RUNNING or whose step runs.
 */
export async function wakeMachine(deps: ApiDeps, id: string, by?: string): Promise<MachineRecord> {
  const now = deps.now();
  const record = await readMachine(deps.store, id, now);
  const decision = wake(record, { now, maxQueueDelaySeconds: deps.maxQueueDelaySeconds }, by);
  if ('resend' in decision) {
    await deps.queue.send(decision.resend);
    return record;
  }
  return commitAsApi(deps, record, decision, 'waking');
}
