import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { dueBucketOf, shardOf } from '../../domain/statusIndex';
import { DynamoMachineStore } from '../../handlers/adapters/dynamodb/machineStore';
import { overdueCandidates } from '../../handlers/application/sweepOverdue';
import { type LocalTables, startLocalTables } from '../helpers/dynalite';
import { machine, T0 } from '../helpers/factories';

/** The due index as resources/dynamodb.yml declares it, in dynalite: what the sweeper's queries find. */
describe('the due index in DynamoDB', function () {
  this.timeout(30_000);
  const SHARDS = 4;
  let local: LocalTables;
  let store: DynamoMachineStore;
  const at = (ms: number) => new Date(ms).toISOString();

  before(async () => {
    local = await startLocalTables();
    store = new DynamoMachineStore(local.client, local.tables, { statusShards: SHARDS });
  });

  after(() => local?.stop());

  it('holds RUNNING machines alone, keyed by their due bucket, and finds those due by a bucket in every shard', async () => {
    const old = Array.from({ length: 6 }, (_, i) => machine({ id: `old-${i}`, updatedAt: at(T0 - 3_600_000) }));
    for (const record of old) expect(await store.create(record)).to.equal(true);
    await store.create(machine({ id: 'recent', updatedAt: at(T0) }));
    await store.create(machine({ id: 'waiting', updatedAt: at(T0 - 3_600_000), wakeAt: at(T0 + 3_600_000) }));
    await store.create(machine({ id: 'done', status: 'SUCCEEDED', updatedAt: at(T0 - 3_600_000) }));
    const stored = async (id: string) =>
      (await local.client.send(new GetCommand({ TableName: 'machines', Key: { id } }))).Item;
    expect(await stored('old-0')).to.include({ dueBucket: dueBucketOf(T0 - 3_600_000) });
    expect(await stored('done')).not.to.have.property('dueBucket');
    expect(await store.getWithLease('old-0')).not.to.have.property('dueBucket');

    const found = await overdueCandidates(store, T0, 15 * 60_000);
    expect(found.sort()).to.deep.equal(old.map((m) => m.id).sort());
    expect(new Set(old.map((m) => shardOf(m.id, SHARDS))).size, 'spread over shards').to.be.greaterThan(1);
    expect(await store.dueByShard(shardOf('old-0', SHARDS), dueBucketOf(T0 - 3_600_000) - 1, 100)).to.deep.equal([]);
  });
});
