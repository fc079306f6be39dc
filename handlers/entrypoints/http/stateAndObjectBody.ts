import * as z from 'zod';
import { stateNameSchema } from '../../../domain/definition';

/** The body of resume and redrive: the object to carry on with and the state to go on from, both optional. */
export const stateAndObjectBodySchema = z
  .strictObject({ object: z.json().optional(), state: stateNameSchema.optional() })
  .default({});
