import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TokenClaim } from './callback';
import type { MachineRecord } from './machine';

/**
 * Callback tokens (docs/design.md "Callbacks"): `fsm1.<id>.<createdAt>.<version>.<attempt>.<woken>.<mac>`,
 * the MAC an HMAC-SHA256 of the rest under the machine's own random `callbackKey`. The same step
 * gets the same token however often its handler is invoked; no token can be made without the
 * key, which is never shown; deleting the machine (its key) revokes them all.
 */
const PREFIX = 'fsm1';
const MAC_BYTES = 32;
/** Room for the longest id (256 characters, base64url) and the numbers. */
export const MAX_TOKEN_CHARS = 512;

const WHOLE = /^(0|[1-9][0-9]{0,15})$/;

function fieldsOf(claim: TokenClaim): string[] {
  const { version, attempt, woken } = claim.step;
  return [
    Buffer.from(claim.id).toString('base64url'),
    Date.parse(claim.createdAt).toString(36),
    String(version),
    String(attempt),
    String(woken ?? 0),
  ];
}

const macOf = (key: string, fields: string[]) =>
  createHmac('sha256', key)
    .update([PREFIX, ...fields].join('.'))
    .digest();

/** The token of the record's current step, for its handler's input; none for a machine without a key. */
export function mintToken(record: MachineRecord): string | undefined {
  if (!record.callbackKey) return undefined;
  const { id, createdAt, version, attempt, woken } = record;
  const fields = fieldsOf({ id, createdAt, step: { version, attempt, ...(woken ? { woken } : {}) } });
  return [PREFIX, ...fields, macOf(record.callbackKey, fields).toString('base64url')].join('.');
}

/** A token read: what it claims, and a check of its MAC against a record's key. Undefined when malformed. */
export function readToken(
  token: string,
): { claim: TokenClaim; authentic: (record: MachineRecord) => boolean } | undefined {
  if (token.length > MAX_TOKEN_CHARS) return undefined;
  const parts = token.split('.');
  if (parts.length !== 7 || parts[0] !== PREFIX) return undefined;
  const [, id64, created36, version, attempt, woken, mac64] = parts as [string, ...string[]] as string[];
  const id = Buffer.from(id64 ?? '', 'base64url').toString();
  const createdMs = Number.parseInt(created36 ?? '', 36);
  const mac = Buffer.from(mac64 ?? '', 'base64url');
  const numbers = [version, attempt, woken];
  if (!id || !Number.isFinite(createdMs) || mac.length !== MAC_BYTES || !numbers.every((n) => WHOLE.test(n ?? ''))) {
    return undefined;
  }
  const wokenCount = Number(woken);
  const claim: TokenClaim = {
    id,
    createdAt: new Date(createdMs).toISOString(),
    step: { version: Number(version), attempt: Number(attempt), ...(wokenCount ? { woken: wokenCount } : {}) },
  };
  // Fields as the token spells them: a token with another spelling of the same claim is not ours.
  const fields = parts.slice(1, 6);
  return {
    claim,
    authentic: (record) => record.callbackKey !== undefined && timingSafeEqual(macOf(record.callbackKey, fields), mac),
  };
}
