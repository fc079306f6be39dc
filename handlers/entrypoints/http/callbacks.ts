import * as z from 'zod';
import { MAX_TOKEN_CHARS } from '../../../domain/callbackToken';
import { fieldIssues, stateNameSchema } from '../../../domain/definition';
import { ValidationError } from '../../../domain/errors';
import { toView } from '../../../domain/machine';
import { answerCallback, type CallbackAnswer } from '../../application/answerCallback';
import { getServices } from '../../wiring/services';
import { type HttpRequest, httpHandler } from './httpHandler';

/** The token travels in the body, never in the URL: access logs and proxies never see it. */
const token = z
  .string({ error: 'must be a string (the callback token)' })
  .min(1, { error: 'must not be empty' })
  .max(MAX_TOKEN_CHARS, { error: `must be at most ${MAX_TOKEN_CHARS} characters` });

const schemas = {
  resume: z.strictObject({ token, object: z.json().optional(), state: stateNameSchema.optional() }),
  fail: z.strictObject({
    token,
    error: z.string({ error: 'must be a string (why the wait failed)' }).min(1, { error: 'must not be empty' }),
  }),
  heartbeat: z.strictObject({ token }),
};

/** One answer route (docs/design.md "Callbacks"): parse, answer, 202 with the machine. */
const answerRoute = (kind: CallbackAnswer['kind']) =>
  httpHandler(async (request: HttpRequest) => {
    const body = schemas[kind].safeParse(request.body);
    if (!body.success) throw new ValidationError(`invalid callback request`, fieldIssues(body.error));
    const { token: given, ...rest } = body.data;
    const services = getServices();
    const record = await answerCallback(services, given, { kind, ...rest } as CallbackAnswer, request.caller);
    return { status: 202, body: toView(record, services.now()) };
  });

/** POST /callbacks: resumes the wait the token belongs to. */
export const resume = answerRoute('resume');
/** POST /callbacks/fail: fails it with `error`. */
export const fail = answerRoute('fail');
/** POST /callbacks/heartbeat: starts its heartbeat clock again. */
export const heartbeat = answerRoute('heartbeat');
