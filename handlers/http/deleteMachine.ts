import { MachineNotFoundError } from '../../domain/errors';
import { requestRemoval } from '../../domain/step';
import { getServices } from '../services';
import { httpHandler, machineId } from './httpHandler';

const ATTEMPTS = 5;

/**
 * DELETE /machines/{id}: 204 when deleted at once; 202 when a handler is running, and the
 * transition processor deletes the machine when that step ends. Never creates anything.
 */
export const handler = httpHandler(async (request) => {
  const id = machineId(request);
  const { store } = getServices();
  // Each round re-reads: a handler may start or finish between the read and the conditional write.
  for (let round = 0; round < ATTEMPTS; round++) {
    const record = await store.get(id);
    if (!record) break;
    const now = Date.now();
    const removal = requestRemoval(record, now);
    if (removal.action === 'pending') return { status: 202, body: { id, removing: true } };
    if (removal.action === 'delete' && (await store.deleteIfIdle(id, now))) {
      await store.deleteHistory(id);
      return { status: 204 };
    }
    if (removal.action === 'mark') {
      await store.putLatestEvent(record);
      if (await store.replace(removal.record, record.seq)) return { status: 202, body: { id, removing: true } };
    }
  }
  throw new MachineNotFoundError(id);
});
