import { encodeCursor, mergePages, parseListQuery, pendingStatuses } from '../../domain/listing';
import { isExpired } from '../../domain/machine';
import { getServices } from '../services';
import { httpHandler } from './httpHandler';

/** GET /machines?status=&limit=&nextToken= : newest first, from the status index (never a scan). */
export const handler = httpHandler(async ({ query }) => {
  const { store } = getServices();
  const request = parseListQuery(query);
  const pages = await Promise.all(
    pendingStatuses(request).map(async ({ status, after }) => ({
      status,
      ...(await store.pageByStatus(status, request.limit, after)),
    })),
  );
  const { keys, next } = mergePages(pages, request.limit, request.cursor);
  const now = Date.now();
  const items = (await store.summaries(keys.map((key) => key.id))).filter((item) => !isExpired(item, now));
  return { status: 200, body: next ? { items, nextToken: encodeCursor(next) } : { items } };
});
