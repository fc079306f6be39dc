import { fieldIssues } from '../../../domain/definition';
import { ValidationError } from '../../../domain/errors';
import { toView } from '../../../domain/machine';
import { redriveMachine } from '../../application/redriveMachine';
import { getServices } from '../../wiring/services';
import { httpHandler, machineId } from './httpHandler';
import { stateAndObjectBodySchema } from './stateAndObjectBody';

/** POST /machines/{id}/redrive: puts a FAILED machine back to RUNNING (202). */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const body = stateAndObjectBodySchema.safeParse(request.body);
  if (!body.success) throw new ValidationError('invalid redrive request', fieldIssues(body.error));
  const services = getServices();
  const record = await redriveMachine(services, id, body.data, request.caller);
  return { status: 202, body: toView(record, services.now()) };
});
