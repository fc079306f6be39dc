import { expect } from 'chai';
import { DEFAULT_STATUS_SHARDS, PARTITION_WRITES_PER_SECOND } from '../../../domain/limits';
import type { MachineRecord, MachineStatus } from '../../../domain/machine';
import { createdKey, indexKeys, indexWritesPerKey, shardOf, statusShardKey } from '../../../domain/statusIndex';

/** A deterministic pseudo-random sequence (xorshift32). */
function random(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** `count` random version-4 UUIDs, the ids the API gives machines without a name. */
function uuids(count: number, seed = 7): string[] {
  const next = random(seed);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  return Array.from({ length: count }, () => {
    const h = hex(next()) + hex(next()) + hex(next()) + hex(next());
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });
}

const createdAt = '2026-01-01T00:00:00.000Z';
type Version = Pick<MachineRecord, 'id' | 'status' | 'createdAt'> | undefined;

/**
 * One machine's record over its life, as the store writes it: added RUNNING, ordinary steps,
 * three status changes (parks, is resumed, succeeds), and finally expires (TTL deletes it).
 */
function lifecycle(id: string): Version[] {
  const at = (status: MachineStatus) => ({ id, status, createdAt });
  return [
    undefined,
    at('RUNNING'),
    at('RUNNING'),
    at('RUNNING'),
    at('PARKED'),
    at('RUNNING'),
    at('RUNNING'),
    at('SUCCEEDED'),
    undefined,
  ];
}

describe('the status index keys', () => {
  it('put a machine in one shard of its status, the same shard for every status, from a hash of its id', () => {
    const id = '5cdb3b00-9b4f-430f-900a-9935316747b2';
    const shard = shardOf(id, 64);
    expect(shard).to.be.within(0, 63);
    expect(shardOf(id, 64)).to.equal(shard);
    for (const status of ['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED'] as const) {
      expect(indexKeys({ id, status, createdAt }, 64)).to.deep.equal({
        statusShard: statusShardKey(status, shard),
        createdKey: `${createdAt}#${id}`,
      });
    }
    expect(createdKey({ createdAt, id })).to.equal(`${createdAt}#${id}`);
    expect(shardOf(id, 1)).to.equal(0);
  });

  it('does not change on an ordinary step, so the index is not written', () => {
    const writes = indexWritesPerKey(
      [
        [
          { id: 'a', status: 'RUNNING', createdAt },
          { id: 'a', status: 'RUNNING', createdAt },
        ],
      ],
      8,
    );
    expect([...writes.values()]).to.deep.equal([1]);
  });

  it('counts a put when a record enters the index, a delete and a put when its status changes, a delete when it goes', () => {
    const id = 'order-1';
    const shard = shardOf(id, 8);
    const writes = indexWritesPerKey([lifecycle(id)], 8);
    expect(Object.fromEntries(writes)).to.deep.equal({
      [statusShardKey('RUNNING', shard)]: 4,
      [statusShardKey('PARKED', shard)]: 2,
      [statusShardKey('SUCCEEDED', shard)]: 2,
    });
  });

  for (const [what, ids] of [
    ['random UUIDs', uuids(10_000)],
    ['sequential names', Array.from({ length: 10_000 }, (_, i) => `order-${i}`)],
  ] as const) {
    it(`keep every index key under ${PARTITION_WRITES_PER_SECOND} writes/s at 10,000 adds/s of ${what} over ${DEFAULT_STATUS_SHARDS} shards`, () => {
      // One second of adds at 10,000/s: at a steady rate, each key takes per second what these
      // machines' whole lives write to it (each machine: add, park, resume, succeed, expire).
      const writes = indexWritesPerKey(ids.map(lifecycle), DEFAULT_STATUS_SHARDS);
      const running = [...writes].filter(([key]) => key.startsWith('RUNNING#')).map(([, n]) => n);
      const hottest = Math.max(...writes.values());
      expect(running).to.have.length(DEFAULT_STATUS_SHARDS);
      // RUNNING takes 4 writes per machine: 40,000/s over 64 keys is 625/s on average.
      expect(running.reduce((a, b) => a + b, 0)).to.equal(40_000);
      expect(hottest).to.be.at.most(PARTITION_WRITES_PER_SECOND * 0.85);
      // Without shards the RUNNING key alone would take 40,000 writes/s, 40 times the limit.
      expect(Math.max(...indexWritesPerKey(ids.map(lifecycle), 1).values())).to.equal(40_000);
    });
  }
});
