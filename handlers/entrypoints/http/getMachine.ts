import { toView } from '../../../domain/machine';
import { readMachine } from '../../application/readMachine';
import { getReadServices } from '../../wiring/read';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id} */
export const handler = httpHandler(async (request) => {
  const { store, now } = getReadServices();
  const at = now();
  return { status: 200, body: toView(await readMachine(store, machineId(request), at), at) };
});
