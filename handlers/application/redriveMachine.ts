import type { Json } from '../../domain/definition';
import type { MachineRecord } from '../../domain/machine';
import { redrive } from '../../domain/step';
import { commitAsApi } from './apiStep';
import type { ApiDeps } from './ports';
import { readMachine } from './readMachine';

/**
 * Puts a FAILED machine back to RUNNING at its failed state (or `input.state`), as the next
 * version with a fresh retry budget (docs/design.md#redrive). 404 for an unknown or expired
 * machine, 409 for one that is not FAILED.
 */
export async function redriveMachine(
  deps: ApiDeps,
  id: string,
  input: { object?: Json; state?: string },
  by?: string,
): Promise<MachineRecord> {
  const now = deps.now();
  const record = await readMachine(deps.store, id, now);
  const commit = redrive(record, input, { now, maxQueueDelaySeconds: deps.maxQueueDelaySeconds }, by);
  return commitAsApi(deps, record, commit, 'redriving');
}
