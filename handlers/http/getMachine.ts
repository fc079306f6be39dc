import { MachineNotFoundError } from '../../domain/errors';
import { isExpired, toView } from '../../domain/machine';
import { getServices } from '../services';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id} */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const record = await getServices().store.get(id);
  const now = Date.now();
  if (!record || isExpired(record, now)) throw new MachineNotFoundError(id);
  return { status: 200, body: toView(record, now) };
});
