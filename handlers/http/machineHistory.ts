import { httpHandler, machineId } from './httpHandler';
import { readMachineWithHistory } from './machineReads';

/** GET /machines/{id}/history: every event, oldest first. */
export const handler = httpHandler(async (request) => {
  const { record, events } = await readMachineWithHistory(machineId(request));
  return { status: 200, body: { id: record.id, events } };
});
