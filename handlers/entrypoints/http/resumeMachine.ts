import * as z from 'zod';
import { MAX_TOKEN_CHARS } from '../../../domain/callbackToken';
import { fieldIssues, stateNameSchema } from '../../../domain/definition';
import { ValidationError } from '../../../domain/errors';
import { toView } from '../../../domain/machine';
import { resumeMachine } from '../../application/resumeMachine';
import { getServices } from '../../wiring';
import { httpHandler, machineId } from './httpHandler';

const resumeBodySchema = z
  .strictObject({
    object: z.json().optional(),
    state: stateNameSchema.optional(),
    // Only the wait this token belongs to (docs/design.md "Callbacks").
    token: z.string({ error: 'must be a string (a callback token)' }).min(1).max(MAX_TOKEN_CHARS).optional(),
  })
  .default({});

/** POST /machines/{id}/resume: wakes a PARKED machine (202). */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const body = resumeBodySchema.safeParse(request.body);
  if (!body.success) throw new ValidationError('invalid resume request', fieldIssues(body.error));
  const services = getServices();
  const record = await resumeMachine(services, id, body.data, request.caller);
  return { status: 202, body: toView(record, services.now()) };
});
