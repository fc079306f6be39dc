import type { WriteIdentity } from '../../../domain/writeIdentity';
import type { CommitGuard } from '../../application/ports';

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

const absent: Part = { expression: 'attribute_not_exists(id)' };
const notRemoving: Part = { expression: 'attribute_not_exists(removing)' };
const atSeq = (seq: number): Part => ({ expression: 'seq = :seq', values: { ':seq': seq } });
const createdAs = (createdAt: string): Part => ({
  expression: 'createdAt = :createdAt',
  values: { ':createdAt': createdAt },
});

/** The record is still the write `identity` (domain/writeIdentity.ts `sameWrite`, as a condition). */
const writeOf = (identity: WriteIdentity): Part[] => [atSeq(identity.seq), createdAs(identity.createdAt)];

/** Nobody holds the step: no lease, or one that has run out. */
const noLiveLease = (now: number): Part => ({
  expression: '(attribute_not_exists(lease) OR lease.#until <= :now)',
  names: { '#until': 'until' },
  values: { ':now': now },
});

const leaseIs = (token: string): Part => ({
  expression: 'lease.#token = :token',
  names: { '#token': 'token' },
  values: { ':token': token },
});

function all(...parts: Part[]): Condition {
  const names = Object.assign({}, ...parts.map((part) => part.names ?? {}));
  const values = Object.assign({}, ...parts.map((part) => part.values ?? {}));
  return {
    ConditionExpression: parts.map((part) => part.expression).join(' AND '),
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** A step's history item may be claimed: nobody holds the step. */
export const free = (now: number): Condition => all(noLiveLease(now));

/** The record is as it was read (nothing committed since, the same machine) and not being removed. */
export const committable = (guard: CommitGuard, createdAt: string): Condition =>
  all(...writeOf({ seq: guard.seq, createdAt }), notRemoving);

export const leasedBy = (token: string): Condition => all(leaseIs(token));

/** The same machine, not being removed, its step held by a live lease in the record itself. */
export const heldInRecord = (record: { createdAt: string }, now: number): Condition =>
  all(createdAs(record.createdAt), notRemoving, {
    expression: 'lease.#until > :now',
    names: { '#until': 'until' },
    values: { ':now': now },
  });

/** The step's history item has no lease, or `token`'s (live or given up). */
export const unleasedOrLeasedBy = (token: string): Condition => {
  const leased = leaseIs(token);
  return all({ ...leased, expression: `(attribute_not_exists(lease) OR ${leased.expression})` });
};

/** The stored record is the write `identity`: nothing committed since, not a machine added again under its name. */
export const isWrite = (identity: WriteIdentity): Condition => all(...writeOf(identity));

export const isNew: Condition = all(absent);

/**
 * A machine's definition item, still there (not purged by a delete), is written for a commit
 * after `seq` by none later: a late write for an older commit cannot undo a newer one's expiry.
 */
export const definitionBefore = (seq: number): Condition =>
  all(
    { expression: 'attribute_exists(id)' },
    {
      expression: '(attribute_not_exists(recordSeq) OR recordSeq < :recordSeq)',
      values: { ':recordSeq': seq },
    },
  );
