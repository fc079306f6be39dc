import { fieldIssues } from '../../../domain/definition';
import { ValidationError } from '../../../domain/errors';
import { toView } from '../../../domain/machine';
import { resumeMachine } from '../../application/resumeMachine';
import { getServices } from '../../wiring/services';
import { httpHandler, machineId } from './httpHandler';
import { resumeBodySchema } from './stateAndObjectBody';

/** POST /machines/{id}/resume: wakes a PARKED machine (202). */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const body = resumeBodySchema.safeParse(request.body);
  if (!body.success) throw new ValidationError('invalid resume request', fieldIssues(body.error));
  const services = getServices();
  const record = await resumeMachine(services, id, body.data, request.caller);
  return { status: 202, body: toView(record, services.now()) };
});
