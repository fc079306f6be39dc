import { parseListQuery } from '../../../domain/listing';
import { listMachines } from '../../application/listMachines';
import { getReadServices } from '../../wiring/read';
import { httpHandler } from './httpHandler';

/** GET /machines?status=&limit=&nextToken= : newest first. */
export const handler = httpHandler(async ({ query }) => {
  const { store, now } = getReadServices();
  return { status: 200, body: await listMachines(store, parseListQuery(query), now()) };
});
