import { encodeHistoryToken, parseHistoryQuery } from '../../../domain/listing';
import { readHistory } from '../../application/readMachine';
import { getReadServices } from '../../wiring/read';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id}/history?limit=&nextToken= : a page of events, oldest first. */
export const handler = httpHandler(async (request) => {
  const { store, now } = getReadServices();
  const page = parseHistoryQuery(request.query);
  const { record, events, next } = await readHistory(store, machineId(request), now(), page);
  const body = { id: record.id, events, ...(next === undefined ? {} : { nextToken: encodeHistoryToken(next) }) };
  return { status: 200, body };
});
