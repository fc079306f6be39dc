import * as z from 'zod';
import { MAX_TOKEN_CHARS } from '../../../domain/callbackToken';
import { stateNameSchema } from '../../../domain/definition';

const stateAndObject = { object: z.json().optional(), state: stateNameSchema.optional() };

/** The body of redrive: the object to carry on with and the state to go on from, both optional. */
export const stateAndObjectBodySchema = z.strictObject(stateAndObject).default({});

/** The body of resume: the same, and the callback token of the one wait it may answer. */
export const resumeBodySchema = z
  .strictObject({
    ...stateAndObject,
    // Only the wait this token belongs to (docs/design.md "Callbacks").
    token: z.string({ error: 'must be a string (a callback token)' }).min(1).max(MAX_TOKEN_CHARS).optional(),
  })
  .default({});
