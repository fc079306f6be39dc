import { answerWait, beat, failWait, waitAnswered } from '../../domain/callback';
import { readToken } from '../../domain/callbackToken';
import type { Json } from '../../domain/definition';
import { ValidationError } from '../../domain/errors';
import type { MachineRecord } from '../../domain/machine';
import { commitAsApi } from './apiStep';
import type { ApiDeps } from './ports';

/** An answer to a park's wait (docs/design.md "Callbacks"). */
export type CallbackAnswer =
  | { kind: 'resume'; object?: Json; state?: string }
  | { kind: 'fail'; error: string }
  | { kind: 'heartbeat' };

const ACTIONS = { resume: 'resuming', fail: 'failing', heartbeat: 'beating for' } as const;

/**
 * Answers the wait `token` belongs to, as the resume API does: read, check, claim, commit, so an
 * answer racing another answer, the deadline's expiry, a delete or a redrive lands at most once:
 * each is a commit on the record's `seq`. 400 malformed, 404 unknown, 409 over; `id`, when the
 * caller named the machine (`POST /machines/{id}/resume` with a token), must be the token's.
 */
export async function answerCallback(
  deps: ApiDeps,
  token: string,
  answer: CallbackAnswer,
  by?: string,
  id?: string,
): Promise<MachineRecord> {
  const read = readToken(token);
  if (!read || (id !== undefined && read.claim.id !== id)) {
    throw new ValidationError('invalid callback request', [
      { path: 'token', message: read ? `is not a token of machine '${id}'` : 'is not a callback token' },
    ]);
  }
  const now = deps.now();
  const record = waitAnswered(await deps.store.getWithLease(read.claim.id), read.claim, read.authentic, now);
  const context = { now, maxQueueDelaySeconds: deps.maxQueueDelaySeconds };
  const commit =
    answer.kind === 'resume'
      ? answerWait(record, answer, context, by)
      : answer.kind === 'fail'
        ? failWait(record, answer.error, context, by)
        : beat(record, context, by);
  const committed = await commitAsApi(deps, record, commit, ACTIONS[answer.kind]);
  if (committed.status === 'FAILED') deps.metrics?.count('MachinesFailed');
  return committed;
}
