import { MachineNotFoundError } from '../../domain/errors';
import { fullHistory, isExpired } from '../../domain/machine';
import { getServices } from '../services';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id}/history: every event, oldest first. */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const { store } = getServices();
  const [record, written] = await Promise.all([store.get(id), store.history(id)]);
  if (!record || isExpired(record, Date.now())) throw new MachineNotFoundError(id);
  return { status: 200, body: { id, events: fullHistory(record, written) } };
});
