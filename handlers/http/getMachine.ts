import { MachineNotFoundError } from '../../domain/errors';
import { toView } from '../../domain/machine';
import { getServices } from '../services';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id} */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const record = await getServices().store.get(id);
  if (!record) throw new MachineNotFoundError(id);
  return { status: 200, body: toView(record, Date.now()) };
});
