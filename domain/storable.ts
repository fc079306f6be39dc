import type { FieldIssue } from './errors';
import { MAX_NESTING_DEPTH, MIN_NUMBER_MAGNITUDE } from './limits';

/**
 * What DynamoDB will store, checked before anything is written, so a machine's data is refused
 * with a 400 naming the field (on add and resume) or fails the machine with a clear error (a
 * handler's result) instead of a write DynamoDB refuses later (docs/design.md#limits).
 *
 * The walk is iterative: data nested thousands of levels deep must not overflow the stack.
 * `levelsAbove`: how far below `value` the machine's object sits (1 in a request body or a
 * handler's result), since DynamoDB counts the object's own nesting.
 */
export function storableIssues(value: unknown, path: string, { levelsAbove = 0 } = {}): FieldIssue[] {
  const maxDepth = MAX_NESTING_DEPTH + levelsAbove;
  const issues: FieldIssue[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  while (stack.length > 0 && issues.length < 10) {
    const { value: current, path: where, depth } = stack.pop() as (typeof stack)[number];
    const at = where || '(root)';
    if (typeof current === 'string') {
      if (!current.isWellFormed())
        issues.push({ path: at, message: 'has a lone UTF-16 surrogate (not valid Unicode)' });
    } else if (typeof current === 'number') {
      // Every double past 2^53 is an integer the document client refuses to store (it would round).
      if (Math.abs(current) > Number.MAX_SAFE_INTEGER) {
        issues.push({ path: at, message: `number ${current} is beyond ±(2^53 - 1) and cannot be kept exactly` });
      } else if (current !== 0 && Math.abs(current) < MIN_NUMBER_MAGNITUDE) {
        issues.push({ path: at, message: `number ${current} is closer to 0 than DynamoDB stores (1e-130)` });
      }
    } else if (current !== null && typeof current === 'object') {
      if (depth + 1 > maxDepth) {
        issues.push({ path: at, message: `is nested more than ${MAX_NESTING_DEPTH} levels deep` });
        continue;
      }
      const entries = Array.isArray(current)
        ? current.map((item, index) => [String(index), item] as const)
        : Object.entries(current);
      for (const [key, item] of entries) {
        if (!Array.isArray(current) && (key === '__proto__' || !key.isWellFormed())) {
          issues.push({ path: join(where, key), message: 'is not a key that can be stored and read back exactly' });
          continue;
        }
        stack.push({ value: item, path: join(where, key), depth: depth + 1 });
      }
    }
  }
  return issues;
}

/**
 * The size DynamoDB bills and limits an item by: attribute names and values in UTF-8, binary
 * values by their bytes, numbers by their significant digits, 1 byte for booleans and null, and
 * for each map or list 3 bytes plus 1 per element (plus the element's key, for a map).
 */
export function itemSize(item: Record<string, unknown>): number {
  let size = 0;
  const stack: unknown[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += utf8(name);
    stack.push(value);
  }
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') size += utf8(value);
    else if (typeof value === 'number') size += numberSize(value);
    else if (value === null || typeof value === 'boolean') size += 1;
    else if (value instanceof Uint8Array) size += value.byteLength;
    else if (Array.isArray(value)) {
      size += 3 + value.length;
      stack.push(...value);
    } else if (typeof value === 'object') {
      size += 3;
      for (const [key, member] of Object.entries(value)) {
        if (member === undefined) continue;
        size += 1 + utf8(key);
        stack.push(member);
      }
    }
  }
  return size;
}

/** DynamoDB's unit of write capacity: a write is billed one unit per started KB of the item. */
export const WRITE_UNIT_BYTES = 1024;

/** The write units a put of `item` is billed, when the item it replaces is no larger. */
export function writeUnits(item: Record<string, unknown>): number {
  return Math.ceil(itemSize(item) / WRITE_UNIT_BYTES);
}

/**
 * What compressing JSON may add to it at worst (brotli's stream and block headers on data that
 * does not compress): the store keeps a value compressed only when that is smaller than the value.
 */
export const COMPRESSION_OVERHEAD_BYTES = 64;

/**
 * At most what a JSON value takes as the store keeps it (docs/design.md#the-record): itself, or
 * its compressed JSON when that is smaller, which is never more than its JSON and the overhead.
 */
export function storedJsonBytes(value: unknown): number {
  return Math.min(itemSize({ '': value }), utf8(JSON.stringify(value)) + COMPRESSION_OVERHEAD_BYTES);
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** As DynamoDB sizes a number (dynalite measured it): by significant digits and their alignment. */
function numberSize(value: number): number {
  if (value === 0) return 1;
  const [mantissa = '', exponent = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '').length;
  const aligned = digits % 2 === 0 && Number(exponent) % 2 === 0 ? 1 : 0;
  return 1 + Math.ceil(digits / 2) + aligned + (value < 0 ? 1 : 0);
}
