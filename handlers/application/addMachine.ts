import type { MachineDefinition } from '../../domain/definition';
import { ConflictError } from '../../domain/errors';
import { createMachine, isAwaitingFirstStep, type MachineRecord } from '../../domain/machine';
import type { ApiDeps } from './ports';
import { removeMachine } from './removeMachine';

/**
 * Adds a machine and sends its first step. The same named definition again answers the
 * existing machine (and re-sends its first step if that may have been lost); another definition
 * under the same name, or any while the machine of that name is being removed, is a conflict.
 */
export async function addMachine(
  deps: ApiDeps,
  definition: MachineDefinition,
  by?: string,
): Promise<{ created: boolean; record: MachineRecord }> {
  const { store, queue } = deps;
  const now = deps.now();
  const id = definition.name ?? deps.newId();
  // The key of its callback tokens (domain/callbackToken.ts): random (a UUID: 122 bits), never shown.
  const callbackKey = deps.newId();
  const { record, first } = createMachine(definition, {
    id,
    now,
    by,
    callbackKey,
    maxQueueDelaySeconds: deps.maxQueueDelaySeconds,
  });

  if (await store.create(record)) {
    try {
      await queue.send(first);
    } catch (error) {
      await removeMachine(deps, record);
      throw error;
    }
    deps.metrics?.count('MachinesStarted');
    return { created: true, record };
  }

  const existing = await store.getWithLease(record.id);
  // Its removal waits for a running handler, then deletes it: answering it would lose the add.
  if (existing?.removing) {
    throw new ConflictError(`a machine named '${record.id}' is being removed; add it again once it is gone`, {
      name: record.id,
      reason: 'removing',
    });
  }
  if (!existing || existing.fingerprint !== record.fingerprint) {
    throw new ConflictError(`a machine named '${record.id}' already exists with another definition`, {
      name: record.id,
    });
  }
  if (isAwaitingFirstStep(existing, now)) await queue.send(first);
  return { created: false, record: existing };
}
