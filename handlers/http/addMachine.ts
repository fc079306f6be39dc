import { randomUUID } from 'node:crypto';
import { parseMachineDefinition } from '../../domain/definition';
import { ConflictError } from '../../domain/errors';
import { createMachine, isAwaitingFirstStep, toView } from '../../domain/machine';
import { functionScope } from '../config';
import { getServices } from '../services';
import { httpHandler } from './httpHandler';

/** POST /machines: 201 with the new machine; the same named definition again: 200 with it. */
export const handler = httpHandler(async ({ body, context }) => {
  const { config, store, queue } = getServices();
  const definition = parseMachineDefinition(body, functionScope(config, context.invokedFunctionArn));
  const now = Date.now();
  const { record, first } = createMachine(definition, { id: definition.name ?? randomUUID(), now });

  if (await store.create(record)) {
    try {
      await queue.send(first);
    } catch (error) {
      await store.deleteMachine(record.id);
      throw error;
    }
    return { status: 201, body: toView(record, now) };
  }

  const existing = await store.get(record.id);
  if (!existing || existing.fingerprint !== record.fingerprint) {
    throw new ConflictError(`a machine named '${record.id}' already exists with another definition`, {
      name: record.id,
    });
  }
  if (isAwaitingFirstStep(existing, now)) await queue.send(first);
  return { status: 200, body: toView(existing, now) };
});
