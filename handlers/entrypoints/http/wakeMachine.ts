import { toView } from '../../../domain/machine';
import { wakeMachine } from '../../application/wakeMachine';
import { getServices } from '../../wiring/services';
import { httpHandler, machineId } from './httpHandler';

/** POST /machines/{id}/wake: runs the next step of a machine waiting on a delay now (202). */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const services = getServices();
  const record = await wakeMachine(services, id, request.caller);
  return { status: 202, body: toView(record, services.now()) };
});
