import { encodeCursor, type ListRequest, mergePages, pendingStatuses } from '../../domain/listing';
import { isExpired, type MachineSummary } from '../../domain/machine';
import type { MachineStore } from './ports';

/** One page of machines, newest first, from the status index (never a scan). */
export async function listMachines(
  store: MachineStore,
  request: ListRequest,
  now: number,
): Promise<{ items: MachineSummary[]; nextToken?: string }> {
  const pages = await Promise.all(
    pendingStatuses(request).map(async ({ status, after }) => ({
      status,
      ...(await store.pageByStatus(status, request.limit, after)),
    })),
  );
  const { keys, next } = mergePages(pages, request.limit, request.cursor);
  const items = (await store.summaries(keys.map((key) => key.id))).filter((item) => !isExpired(item, now));
  return next ? { items, nextToken: encodeCursor(next) } : { items };
}
