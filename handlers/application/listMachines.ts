import { encodeCursor, type IndexPosition, type ListRequest, mergePages, pendingShards } from '../../domain/listing';
import { isExpired, type MachineStatus, type MachineSummary } from '../../domain/machine';
import type { MachineStore, StatusIndexPage } from './ports';

/**
 * One page of machines, newest first, from the status index (never a scan): every shard of
 * every status asked for, read side by side and merged (docs/design.md "The status index").
 */
export async function listMachines(
  store: MachineStore,
  request: ListRequest,
  now: number,
): Promise<{ items: MachineSummary[]; nextToken?: string }> {
  const { statusShards } = store;
  const { shards, after } = pendingShards(request, statusShards);
  const pages = await Promise.all(
    shards.map(async (shard) => ({ ...shard, ...(await store.pageByShard(shard, request.limit, after)) })),
  );
  const { keys, next } = mergePages(pages, request.limit, request, statusShards);
  const items = (await store.summaries(keys.map((key) => key.id))).filter((item) => !isExpired(item, now));
  return next ? { items, nextToken: encodeCursor(next) } : { items };
}

/**
 * One page of the machines with `status` below `after`, every shard merged, newest first, for
 * callers that walk one status.
 */
export async function pageByStatus(
  store: Pick<MachineStore, 'statusShards' | 'pageByShard'>,
  status: MachineStatus,
  limit: number,
  after?: IndexPosition,
): Promise<StatusIndexPage> {
  const shards = Array.from({ length: store.statusShards }, (_, shard) => ({ status, shard }));
  const position = after && { createdAt: after.createdAt, id: after.id };
  const pages = await Promise.all(
    shards.map(async (shard) => ({ ...shard, ...(await store.pageByShard(shard, limit, position)) })),
  );
  const { keys, next } = mergePages(pages, limit, { statuses: [status], cursor: {} }, store.statusShards);
  return { keys, more: next !== undefined };
}
