import { deleteMachine } from '../../application/deleteMachine';
import { getServices } from '../../wiring/services';
import { httpHandler, machineId } from './httpHandler';

/**
 * DELETE /machines/{id}: 204 when deleted at once; 202 when a handler is running, and the
 * transition processor deletes the machine when that step ends.
 */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const result = await deleteMachine(getServices(), id, request.caller);
  return result === 'deleted' ? { status: 204 } : { status: 202, body: { id, removing: true } };
});
