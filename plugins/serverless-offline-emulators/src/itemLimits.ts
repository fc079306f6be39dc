/**
 * DynamoDB's item limits that dynalite does not enforce as DynamoDB does: 400 KB per item counted
 * in UTF-8 bytes as DynamoDB sizes items (dynalite counts string characters, so an item of
 * multi-byte text passes it up to 4 times too large), and 32 levels of nested maps and lists
 * (dynalite has no limit). Checked in the tap before dynalite sees a write.
 */

export const MAX_ITEM_BYTES = 400 * 1024;
export const MAX_NESTING_LEVELS = 32;

type AttributeValue = Record<string, unknown>;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * A DynamoDB number's size: 1 byte, plus 1 per two significant digits as they pair around the
 * decimal point, plus 1 if negative (the rule domain/storable.ts sizes records by).
 */
function numberSize(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value === 0) return 1;
  const [mantissa = '', exponent = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '').length;
  const aligned = digits % 2 === 0 && Number(exponent) % 2 === 0 ? 1 : 0;
  return 1 + Math.ceil(digits / 2) + aligned + (value < 0 ? 1 : 0);
}

/** The size of one attribute value as DynamoDB counts it (wire form: `{ S: ... }`, `{ M: {...} }` ...). */
export function valueSize(value: AttributeValue): number {
  const [type, content] = Object.entries(value)[0] ?? [];
  switch (type) {
    case 'S':
      return utf8(String(content));
    case 'N':
      return numberSize(String(content));
    case 'B':
      return Buffer.from(String(content), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (content as string[]).reduce((n, s) => n + utf8(s), 0);
    case 'NS':
      return (content as string[]).reduce((n, s) => n + numberSize(s), 0);
    case 'BS':
      return (content as string[]).reduce((n, b) => n + Buffer.from(b, 'base64').length, 0);
    case 'L':
      return (content as AttributeValue[]).reduce((n, v) => n + 1 + valueSize(v), 3);
    case 'M':
      return Object.entries(content as Record<string, AttributeValue>).reduce(
        (n, [k, v]) => n + 1 + utf8(k) + valueSize(v),
        3,
      );
    default:
      return 0;
  }
}

/** An item's size as DynamoDB counts it: attribute names and values, in UTF-8. */
export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((n, [name, value]) => n + utf8(name) + valueSize(value), 0);
}

/** How many maps and lists deep a value goes (a scalar: 0; a map of scalars: 1). */
export function nestingLevels(value: AttributeValue): number {
  const [type, content] = Object.entries(value)[0] ?? [];
  const children =
    type === 'L'
      ? (content as AttributeValue[])
      : type === 'M'
        ? Object.values(content as Record<string, AttributeValue>)
        : undefined;
  if (!children) return 0;
  return 1 + children.reduce((deepest, child) => Math.max(deepest, nestingLevels(child)), 0);
}

/** What DynamoDB answers a write of `item`, if it refuses it for its size or nesting. */
export function itemLimitError(item: Record<string, AttributeValue>): string | undefined {
  if (Object.values(item).some((value) => nestingLevels(value) > MAX_NESTING_LEVELS)) {
    return 'Nesting Levels have exceeded supported limits';
  }
  if (itemSize(item) > MAX_ITEM_BYTES) return 'Item size has exceeded the maximum allowed size';
  return undefined;
}

/** The ValidationException message DynamoDB would answer this request with, for the items it writes whole. */
export function writeLimitError(action: string | undefined, body: Record<string, unknown>): string | undefined {
  const items: Record<string, AttributeValue>[] = [];
  if (action === 'PutItem' && body.Item && typeof body.Item === 'object') {
    items.push(body.Item as Record<string, AttributeValue>);
  } else if (action === 'BatchWriteItem' && body.RequestItems && typeof body.RequestItems === 'object') {
    for (const requests of Object.values(body.RequestItems as Record<string, unknown[]>)) {
      for (const request of requests ?? []) {
        const item = (request as { PutRequest?: { Item?: Record<string, AttributeValue> } }).PutRequest?.Item;
        if (item) items.push(item);
      }
    }
  }
  for (const item of items) {
    const error = itemLimitError(item);
    if (error) return error;
  }
  return undefined;
}
