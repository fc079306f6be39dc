import type { StateHandler } from '../domain/contract';

/** A stand-in for your payment provider's client: a second charge with the same key charges nothing. */
const charges = new Map<string, { orderId: number }>();
const payments = {
  async charge(orderId: number, { idempotencyKey }: { idempotencyKey: string }) {
    if (!charges.has(idempotencyKey)) charges.set(idempotencyKey, { orderId });
    return { chargeId: idempotencyKey };
  },
};

export const chargeCard: StateHandler<{ orderId: number; charged?: boolean }> = async ({ id, version, object }) => {
  await payments.charge(object.orderId, { idempotencyKey: `${id}:${version}` });
  return { state: 'SHIP', object: { ...object, charged: true } };
};
