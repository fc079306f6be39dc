import { toView } from '../../domain/machine';
import { httpHandler, machineId } from './httpHandler';
import { readMachine } from './machineReads';

/** GET /machines/{id} */
export const handler = httpHandler(async (request) => {
  const now = Date.now();
  return { status: 200, body: toView(await readMachine(machineId(request), now), now) };
});
