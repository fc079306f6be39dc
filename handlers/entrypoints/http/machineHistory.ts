import { readMachineWithHistory } from '../../application/readMachine';
import { getServices } from '../../wiring';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id}/history: every event, oldest first. */
export const handler = httpHandler(async (request) => {
  const { store, now } = getServices();
  const { record, events } = await readMachineWithHistory(store, machineId(request), now());
  return { status: 200, body: { id: record.id, events } };
});
