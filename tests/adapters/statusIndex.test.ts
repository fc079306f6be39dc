import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { parseListQuery } from '../../domain/listing';
import type { MachineRecord, MachineStatus } from '../../domain/machine';
import { shardOf, statusShardKey } from '../../domain/statusIndex';
import { DynamoMachineStore } from '../../handlers/adapters/dynamodb/machineStore';
import { listMachines } from '../../handlers/application/listMachines';
import { type LocalTables, startLocalTables } from '../helpers/dynalite';
import { machine, T0 } from '../helpers/factories';

/**
 * The status index as resources/dynamodb.yml declares it, in dynalite: every write of a status
 * writes its shard key in the same PutItem, and listing merges the shards page by page.
 */
describe('the status index in DynamoDB', function () {
  this.timeout(30_000);
  const SHARDS = 8;
  let local: LocalTables;
  let client: DynamoDBDocumentClient;
  let store: DynamoMachineStore;

  before(async () => {
    local = await startLocalTables();
    client = local.client;
    store = new DynamoMachineStore(client, local.tables, { statusShards: SHARDS });
  });

  after(() => local?.stop());

  const stored = async (id: string) =>
    (await client.send(new GetCommand({ TableName: 'machines', Key: { id } }))).Item as Record<string, unknown>;

  it('writes the shard key with the status in the same write, and never hands it to the domain', async () => {
    const record = machine({ id: 'keys-1' });
    expect(await store.create(record)).to.equal(true);
    const shard = shardOf('keys-1', SHARDS);
    expect(await stored('keys-1')).to.include({
      statusShard: statusShardKey('RUNNING', shard),
      createdKey: `${record.createdAt}#keys-1`,
    });
    let current: MachineRecord = record;
    for (const status of ['PARKED', 'RUNNING', 'FAILED', 'RUNNING', 'SUCCEEDED'] as MachineStatus[]) {
      const next = { ...current, status, seq: current.seq + 1 };
      expect(await store.commit(next, { seq: current.seq })).to.equal(true);
      expect((await stored('keys-1')).statusShard).to.equal(statusShardKey(status, shard));
      current = next;
    }
    const read = (await store.getWithLease('keys-1')) as unknown as Record<string, unknown>;
    expect(read).not.to.have.property('statusShard');
    expect(read).not.to.have.property('createdKey');
  });

  it('lists across shards and pages newest first, createdAt ties broken by id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `list-${String(i).padStart(2, '0')}`;
      ids.push(id);
      const createdAt = new Date(T0 + 1000 + Math.floor(i / 4)).toISOString();
      await store.create(machine({ id, createdAt, status: 'FAILED' }));
    }
    expect(new Set(ids.map((id) => shardOf(id, SHARDS))).size).to.be.greaterThan(4);
    const listed: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const query = { status: 'FAILED', limit: '4', ...(nextToken ? { nextToken } : {}) };
      const page = await listMachines(store, parseListQuery(query), T0);
      listed.push(...page.items.map((item) => item.id));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken && pages < 50);
    expect(listed).to.deep.equal([...ids].reverse());
    expect(pages).to.equal(8);
    // The adapter's keys as the index holds them: the newest of list-29's shard is list-29.
    const [newest] = (await store.pageByShard({ status: 'FAILED', shard: shardOf('list-29', SHARDS) }, 1)).keys;
    expect(newest).to.deep.equal({
      id: 'list-29',
      status: 'FAILED',
      createdAt: new Date(T0 + 1007).toISOString(),
    });
  });
});
