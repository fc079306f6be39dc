import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { fieldIssues, stateNameSchema } from '../../domain/definition';
import { ConflictError, MachineNotFoundError, ValidationError } from '../../domain/errors';
import { toView } from '../../domain/machine';
import { resume } from '../../domain/step';
import { getServices } from '../services';
import { httpHandler, machineId } from './httpHandler';

const resumeBodySchema = z.strictObject({ object: z.json().optional(), state: stateNameSchema.optional() }).default({});
const LEASE_MS = 30_000;

/**
 * POST /machines/{id}/resume: wakes a PARKED machine (202). Same pattern as a step: lease,
 * send, then commit, so the message can never be lost and an early one is only deferred.
 */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const body = resumeBodySchema.safeParse(request.body);
  if (!body.success) throw new ValidationError('invalid resume request', fieldIssues(body.error));
  const { store, queue, config } = getServices();
  const record = await store.get(id);
  if (!record) throw new MachineNotFoundError(id);
  const now = Date.now();
  const next = resume(record, body.data, { now, maxQueueDelaySeconds: config.maxQueueDelaySeconds });
  const lease = { token: randomUUID(), until: now + LEASE_MS };
  if (!(await store.takeLease(record, lease, now))) {
    throw new ConflictError(`machine '${id}' changed while resuming it; try again`, { status: record.status });
  }
  await store.putLatestEvent(record);
  await queue.send(next.send);
  const committed = await store.commit(next.record, {
    version: record.version,
    attempt: record.attempt,
    token: lease.token,
    now: Date.now(),
  });
  if (!committed) {
    // A delete that arrived meanwhile saw our lease and left the deletion to us.
    if ((await store.get(id))?.removing) {
      await store.deleteMachine(id);
      throw new MachineNotFoundError(id);
    }
    throw new ConflictError(`machine '${id}' changed while resuming it; try again`);
  }
  return { status: 202, body: toView(next.record, Date.now()) };
});
