import type { Lease } from '../../../domain/machine';
import type { CommitGuard, StepKey } from '../../application/ports';

/**
 * The conditions of the store's racing writes, built from named parts so each reads like the
 * rule it enforces (docs/design.md#the-claim). A part contributes its expression and the
 * names and values it uses.
 */
interface Part {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

export interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

const exists: Part = { expression: 'attribute_exists(id)' };
const absent: Part = { expression: 'attribute_not_exists(id)' };
const notRemoving: Part = { expression: 'attribute_not_exists(removing)' };

/** At exactly this step attempt and wake count (`woken` absent = 0). */
const atStep = (version: number, attempt: number, woken = 0): Part =>
  woken === 0
    ? {
        expression: 'version = :version AND attempt = :attempt AND attribute_not_exists(woken)',
        values: { ':version': version, ':attempt': attempt },
      }
    : {
        expression: 'version = :version AND attempt = :attempt AND woken = :woken',
        values: { ':version': version, ':attempt': attempt, ':woken': woken },
      };

const inStatus = (status: string): Part => ({
  expression: '#status = :status',
  names: { '#status': 'status' },
  values: { ':status': status },
});

/** Nobody holds the step: no lease, or one that has run out. */
const noLiveLease = (now: number): Part => ({
  expression: '(attribute_not_exists(lease) OR lease.#until <= :now)',
  names: { '#until': 'until' },
  values: { ':now': now },
});

/** Its wait (a delay longer than one queue delay) is over. */
const due = (now: number): Part => ({
  expression: '(attribute_not_exists(wakeAt) OR wakeAt <= :nowIso)',
  values: { ':nowIso': new Date(now).toISOString() },
});

/** Still waiting: its `wakeAt` is later than now (the only steps the wake API claims). */
const waiting = (now: number): Part => ({
  expression: 'wakeAt > :nowIso',
  values: { ':nowIso': new Date(now).toISOString() },
});

const holdsLease = (token: string, now: number): Part => ({
  expression: 'lease.#token = :token AND lease.#until > :now',
  names: { '#token': 'token', '#until': 'until' },
  values: { ':token': token, ':now': now },
});

const leaseIs = (token: string): Part => ({
  expression: 'lease.#token = :token',
  names: { '#token': 'token' },
  values: { ':token': token },
});

const unchangedSince = (seq: number): Part => ({ expression: 'seq = :seq', values: { ':seq': seq } });

function all(...parts: Part[]): Condition {
  const names = Object.assign({}, ...parts.map((part) => part.names ?? {}));
  const values = Object.assign({}, ...parts.map((part) => part.values ?? {}));
  return {
    ConditionExpression: parts.map((part) => part.expression).join(' AND '),
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/**
 * The step can be run now: the same answer as decide()'s 'run'; with `step.waiting`, the same
 * step still waiting instead, as isWaiting() (tests/adapters hold them together).
 */
export const claimable = (step: StepKey, now: number): Condition =>
  all(
    atStep(step.version, step.attempt, step.woken),
    inStatus(step.status),
    notRemoving,
    noLiveLease(now),
    step.waiting ? waiting(now) : due(now),
  );

export const committable = (guard: CommitGuard): Condition =>
  guard.kind === 'claim'
    ? all(atStep(guard.version, guard.attempt, guard.woken), holdsLease(guard.token, guard.now), notRemoving)
    : all(unchangedSince(guard.seq), notRemoving);

export const leasedBy = (lease: Pick<Lease, 'token'>): Condition => all(leaseIs(lease.token));

export const idle = (now: number): Condition => all(exists, noLiveLease(now));

export const isNew: Condition = all(absent);
