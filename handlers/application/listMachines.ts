import { encodeCursor, type ListRequest, mergePages, pendingShards } from '../../domain/listing';
import { isExpired, type MachineSummary } from '../../domain/machine';
import type { MachineStore } from './ports';

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
