/**
 * Workflow data as machines carry it, for the cost curve: not random bytes (which no store
 * compresses) but order-like JSON, the way an order or claim workflow accumulates it: a
 * customer with addresses, line items with SKUs, prices and quantities, ids, ISO timestamps and
 * an audit trail of status changes. Keys repeat from record to record, values vary. Seeded, so
 * every run stores the same bytes.
 */

/** Park-Miller: a small deterministic generator, so the curve does not move between runs. */
function random(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

const STREETS = ['Main St', 'High St', 'Oak Avenue', 'Station Road', 'Church Lane', 'Mill Road', 'Park Drive'];
const CITIES = [
  ['Seattle', 'WA', '98101'],
  ['Portland', 'OR', '97205'],
  ['Austin', 'TX', '78701'],
  ['Denver', 'CO', '80202'],
  ['Boston', 'MA', '02108'],
] as const;
const PRODUCTS = ['Espresso beans 1kg', 'Ceramic mug', 'Paper filters (100)', 'Burr grinder', 'Milk jug 600ml'];
const STATUSES = ['received', 'validated', 'payment_authorized', 'picked', 'packed', 'shipped'];

/** One order: about 700-900 bytes of JSON. */
function order(next: () => number, index: number, t0: number) {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
  const hex = (n: number) =>
    Array.from({ length: n }, () =>
      Math.floor(next() * 16)
        .toString(16)
        .toString(),
    ).join('');
  const at = (offsetMs: number) => new Date(t0 + offsetMs).toISOString();
  const [city, state, postalCode] = pick(CITIES);
  const address = {
    line1: `${1 + Math.floor(next() * 999)} ${pick(STREETS)}`,
    city,
    state,
    postalCode,
    country: 'US',
  };
  const lines = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, i) => ({
    lineId: `${index}-${i + 1}`,
    sku: `SKU-${Math.floor(next() * 90000) + 10000}`,
    description: pick(PRODUCTS),
    quantity: 1 + Math.floor(next() * 4),
    unitPrice: Math.round(next() * 10000) / 100,
    currency: 'USD',
  }));
  return {
    orderId: `ord_${hex(8)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    customer: { customerId: `cus_${hex(12)}`, email: `customer${Math.floor(next() * 1e6)}@example.com` },
    shippingAddress: address,
    billingAddress: next() < 0.7 ? address : { ...address, line1: `${1 + Math.floor(next() * 999)} ${pick(STREETS)}` },
    lines,
    total: Math.round(lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0) * 100) / 100,
    createdAt: at(index * 60_000),
    history: STATUSES.slice(0, 1 + Math.floor(next() * STATUSES.length)).map((status, i) => ({
      status,
      at: at(index * 60_000 + i * 37_000),
    })),
  };
}

/** A machine's object of about `bytes` of JSON: `base` plus a batch of orders. */
export function realisticObject<T extends object>(base: T, bytes: number, seed = 1): T & { orders?: unknown[] } {
  if (bytes <= JSON.stringify(base).length) return base;
  const next = random(seed);
  const t0 = Date.UTC(2025, 0, 6, 9);
  const orders: unknown[] = [];
  const sized = () => JSON.stringify({ ...base, orders }).length;
  while (sized() < bytes) orders.push(order(next, orders.length, t0));
  if (orders.length > 1 && sized() - bytes > bytes - JSON.stringify({ ...base, orders: orders.slice(0, -1) }).length)
    orders.pop();
  return { ...base, orders };
}

/**
 * `config`, `catch` and `timeouts` of about `bytes` of JSON as real definitions are written:
 * states named by the ARN of their function with an alias (`arnOf` a function key of the stage:
 * only the stage's own functions pass the allow-list), a `catch` to a compensating state for
 * every other state, `timeouts` for some. `state` runs `handler`; the other states belong to the
 * workflow but are never reached by the bench's steps.
 */
export function realisticDefinition(state: string, handler: string, bytes: number, arnOf: (key: string) => string) {
  const config: Record<string, string> = { [state]: handler, COMPENSATE: `${arnOf('recover')}:live` };
  const catches: Record<string, string> = {};
  const timeouts: Record<string, number> = { '*': 30 };
  const names = ['VALIDATE-ORDER', 'RESERVE-STOCK', 'AUTHORIZE-PAYMENT', 'CAPTURE-PAYMENT', 'PICK', 'PACK', 'SHIP'];
  const functions = ['prepare', 'task-1', 'task-2a', 'task-2b', 'finalize', 'flaky', 'sleepy'];
  const size = () => JSON.stringify({ config, catch: catches, timeouts }).length;
  for (let i = 0; size() < bytes; i++) {
    const name = `${names[i % names.length]}${i >= names.length ? `-${Math.floor(i / names.length) + 1}` : ''}`;
    config[name] = `${arnOf(functions[i % functions.length] as string)}:live`;
    if (i % 2 === 0) catches[name] = 'COMPENSATE';
    if (i % 3 === 0) timeouts[name] = 10 + (i % 5) * 5;
  }
  return {
    config,
    catch: catches,
    timeouts,
    options: { retry: { maxAttempts: 3, backoffSeconds: 2 }, retentionDays: 30 },
  };
}
