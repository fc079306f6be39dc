import { parseListQuery } from '../../../domain/listing';
import { listMachines } from '../../application/listMachines';
import { getServices } from '../../wiring';
import { httpHandler } from './httpHandler';

/** GET /machines?status=&limit=&nextToken= : newest first. */
export const handler = httpHandler(async ({ query }) => {
  const { store, now } = getServices();
  return { status: 200, body: await listMachines(store, parseListQuery(query), now()) };
});
