import { DUE_BUCKET_SECONDS } from './limits';
import { dueAt, type MachineRecord, type MachineStatus } from './machine';

/**
 * The status index's keys (docs/design.md "The status index"). The hash key is the status and
 * a shard, `RUNNING#17`, so one status spreads over `shards` index partitions; the shard is a
 * hash of the id, so a machine keeps its shard number through every status. The range key is
 * `createdAt#id`: unique, so every shard and the merged listing share one total order, newest
 * first, and one position says where every shard stopped.
 */
export interface IndexKeys {
  statusShard: string;
  createdKey: string;
}

/** 32-bit FNV-1a of the id's UTF-16 code units, then murmur3's finalizer so every bit mixes. */
function hash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The machine's shard, 0..shards-1: the same for every status, stable for its lifetime. */
export function shardOf(id: string, shards: number): number {
  return hash(id) % shards;
}

export const statusShardKey = (status: MachineStatus, shard: number): string => `${status}#${shard}`;

/** The index's range key: createdAt (fixed-width ISO) then the id, which makes it unique. */
export const createdKey = (position: { createdAt: string; id: string }): string =>
  `${position.createdAt}#${position.id}`;

/** The due index's bucket of an instant (epoch ms): whole DUE_BUCKET_SECONDS since the epoch. */
export const dueBucketOf = (epochMs: number): number => Math.floor(epochMs / (DUE_BUCKET_SECONDS * 1000));

/**
 * The index keys a record is stored with: derived from `status` in the same PutItem that writes
 * the status, so they change exactly when it does, and never on an ordinary step.
 */
export function indexKeys(record: Pick<MachineRecord, 'id' | 'status' | 'createdAt'>, shards: number): IndexKeys {
  return { statusShard: statusShardKey(record.status, shardOf(record.id, shards)), createdKey: createdKey(record) };
}

/**
 * The due index's range key (docs/design.md "The due index"; its hash key is `statusShard`), for
 * RUNNING records only, so the index holds nothing else: the bucket the current step is due in,
 * which a commit changes only when it makes a step due in a later bucket, not at every step.
 */
export function dueIndexKey(
  record: Pick<MachineRecord, 'status' | 'wakeAt' | 'updatedAt'>,
): { dueBucket: number } | Record<string, never> {
  return record.status === 'RUNNING' ? { dueBucket: dueBucketOf(dueAt(record)) } : {};
}

/**
 * Index writes per index key (`statusShard`) for a sequence of record versions per machine, as
 * DynamoDB does them: a put when a record enters the index, a delete and a put when its key
 * changes, nothing when it stays; `undefined` = no record (before add, after delete or expiry).
 */
export function indexWritesPerKey(
  lifecycles: Iterable<(Pick<MachineRecord, 'id' | 'status' | 'createdAt'> | undefined)[]>,
  shards: number,
): Map<string, number> {
  const writes = new Map<string, number>();
  const add = (key: string) => writes.set(key, (writes.get(key) ?? 0) + 1);
  for (const versions of lifecycles) {
    let previous: string | undefined;
    for (const record of versions) {
      const current = record && indexKeys(record, shards).statusShard;
      if (current !== previous) {
        if (previous !== undefined) add(previous);
        if (current !== undefined) add(current);
      }
      previous = current;
    }
  }
  return writes;
}
