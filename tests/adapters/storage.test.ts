import { randomBytes } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { realisticDefinition, realisticObject } from '../../bench/realistic';
import type { Json } from '../../domain/definition';
import { historyKey, type MachineRecord, storedRecordBytes, withEvent } from '../../domain/machine';
import { itemSize } from '../../domain/storable';
import { definitionBefore } from '../../handlers/adapters/dynamodb/conditions';
import { DynamoMachineStore } from '../../handlers/adapters/dynamodb/machineStore';
import { DEFINITION_SEQ, toRecordItem } from '../../handlers/adapters/dynamodb/recordMapper';
import { type LocalTables, startLocalTables } from '../helpers/dynalite';
import { machine, T0 } from '../helpers/factories';

/**
 * How a record is stored (docs/design.md#the-record): the definition in an item of its own,
 * written at add and read once per container; the object compressed when that is smaller;
 * records written before (definition and object in the record's item, as they are) still read
 * and move to this layout on their next commit. Against dynalite: DynamoDB's own types.
 */
describe('how a record is stored, in DynamoDB (dynalite)', function () {
  this.timeout(30_000);
  let local: LocalTables;
  /** The commands the store sent, by name and table. */
  let sent: string[];
  let ids = 0;

  before(async () => {
    local = await startLocalTables();
  });
  after(() => local.stop());

  function newStore() {
    const counting = {
      send: (command: { constructor: { name: string }; input: { TableName?: string } }) => {
        sent.push(`${command.constructor.name} ${command.input.TableName}`);
        return local.client.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    return new DynamoMachineStore(counting, local.tables);
  }

  const arnOf = (key: string) => `arn:aws:lambda:us-east-1:123456789012:function:svc-dev-${key}`;
  /** A machine as the bench's cost rows run it: a 1 KB order-like object and a 2 KB definition. */
  function realistic(objectBytes = 1024): MachineRecord {
    const { config, catch: catches, timeouts, options } = realisticDefinition('STEP', 'noop', 2048, arnOf);
    return machine({
      id: `storage-${++ids}`,
      state: 'STEP',
      config,
      catch: catches,
      timeouts,
      options: { ...options, retry: { ...options.retry, backoffRate: 2 } },
      object: realisticObject({ steps: 5 }, objectBytes) as Json,
    });
  }

  const rawRecord = async (id: string) =>
    (await local.client.send(new GetCommand({ TableName: local.tables.machines, Key: { id } }))).Item;
  const rawDefinition = async (record: MachineRecord) =>
    (
      await local.client.send(
        new GetCommand({ TableName: local.tables.history, Key: { id: historyKey(record), seq: DEFINITION_SEQ } }),
      )
    ).Item;
  const next = (record: MachineRecord, overrides: Partial<MachineRecord> = {}): MachineRecord => ({
    ...record,
    version: record.version + 1,
    ...withEvent(record, { outcome: 'transition', version: record.version + 1 }, T0 + 1000),
    ...overrides,
  });

  beforeEach(() => {
    sent = [];
  });

  it('keeps the definition apart and the object compressed, and reads back the record as it was', async () => {
    const store = newStore();
    const record = realistic();
    expect(await store.create(record)).to.equal(true);
    const item = await rawRecord(record.id);
    for (const field of ['config', 'options', 'catch', 'timeouts', 'fingerprint', 'object'])
      expect(item, field).not.to.have.property(field);
    expect(item?.objectZ).to.be.instanceOf(Uint8Array);
    expect(await rawDefinition(record)).to.have.property('definitionZ');
    expect(await newStore().getRecordOnly(record.id)).to.deep.equal(record);
    expect(await newStore().getWithLease(record.id)).to.deep.equal(record);
  });

  it('bills a commit of a 1 KB object with a 2 KB definition one write unit, and its object about 0.1 unit a KB', async () => {
    const store = newStore();
    expect(store.writeUnits(realistic(1024))).to.equal(1);
    expect(itemSize({ ...realistic(1024) })).to.be.greaterThan(3 * 1024);
    const large = realistic(64 * 1024);
    expect(store.writeUnits(large)).to.be.at.most(12);
    // The domain's size check (storedRecordBytes) bounds what is stored.
    const noise = machine({ object: { noise: randomBytes(48 * 1024).toString('base64') } });
    for (const record of [realistic(1024), large, noise, machine({ object: { lists: Array(9000).fill([[[]]]) } })])
      expect(itemSize(toRecordItem(record))).to.be.at.most(storedRecordBytes(record));
  });

  it('packs the events a chain carries, so more of them ride in the record for no write unit', async () => {
    const store = newStore();
    const record = realistic();
    await store.create(record);
    let current = record;
    const events = [];
    for (let i = 0; i < 4; i++) {
      events.push(current.lastEvent);
      current = next(current);
    }
    const carrying = { ...current, seq: record.seq + 4, pendingEvents: events.slice(1) };
    const chained = { ...carrying, lastEvent: { ...carrying.lastEvent, seq: carrying.seq } };
    expect(await store.commit(chained, { seq: record.seq })).to.equal(true);
    expect((await rawRecord(record.id))?.eventsZ).to.be.instanceOf(Uint8Array);
    expect(await newStore().getRecordOnly(record.id)).to.deep.equal(chained);
    expect(store.writeUnits(chained)).to.equal(store.writeUnits({ ...chained, pendingEvents: undefined }));
  });

  it('stores a small object as it is, where compressing would not pay', async () => {
    const store = newStore();
    const record = machine({ id: `storage-${++ids}`, object: { n: 1 } });
    expect(await store.create(record)).to.equal(true);
    expect((await rawRecord(record.id))?.object).to.deep.equal({ n: 1 });
    expect(await newStore().getRecordOnly(record.id)).to.deep.equal(record);
  });

  it('reads the definition once per container, and commits with one write', async () => {
    const store = newStore();
    const record = realistic();
    await store.create(record);
    const reader = newStore();
    sent = [];
    let current = (await reader.getRecordOnly(record.id)) as MachineRecord;
    for (let i = 0; i < 3; i++) {
      const after = next(current);
      expect(await reader.commit(after, { seq: current.seq })).to.equal(true);
      current = (await reader.getRecordOnly(record.id)) as MachineRecord;
      expect(current).to.deep.equal(after);
    }
    expect(sent.filter((command) => command === 'GetCommand history')).to.have.length(1);
    expect(sent.filter((command) => command.startsWith('Put'))).to.deep.equal([
      'PutCommand machines',
      'PutCommand machines',
      'PutCommand machines',
    ]);
  });

  it('reads a record written before, definition and object in its item, and moves it out on its next commit', async () => {
    const record = realistic();
    const { lease: _none, ...old } = record;
    await local.client.send(new PutCommand({ TableName: local.tables.machines, Item: old }));
    const store = newStore();
    const read = (await store.getRecordOnly(record.id)) as MachineRecord;
    expect(read).to.deep.equal(record);
    expect(sent.filter((command) => command === 'GetCommand history')).to.have.length(0);
    const after = next(read);
    expect(await store.commit(after, { seq: read.seq })).to.equal(true);
    expect(await rawRecord(record.id)).not.to.have.property('config');
    expect(await rawDefinition(record)).to.include({ recordSeq: after.seq });
    expect(await newStore().getRecordOnly(record.id)).to.deep.equal(after);
  });

  it('gives the definition its machine’s expiry when it finishes, and takes it back when it runs again', async () => {
    const store = newStore();
    const record = realistic();
    await store.create(record);
    const done = next(record, { status: 'SUCCEEDED', finishedAt: '2026-01-01T00:00:01.000Z', expiresAt: 1_800_000 });
    expect(await store.commit(done, { seq: record.seq })).to.equal(true);
    expect(await rawDefinition(record)).to.include({ expiresAt: 1_800_000, recordSeq: done.seq });
    // A redrive: read the finished record, commit it running.
    const redriver = newStore();
    const read = (await redriver.getRecordOnly(record.id)) as MachineRecord;
    const { expiresAt: _e, finishedAt: _f, ...running } = next(read, { status: 'RUNNING' });
    expect(await redriver.commit(running, { seq: read.seq })).to.equal(true);
    expect(await rawDefinition(record)).not.to.have.property('expiresAt');
    // The finish's expiry written late (its request slow) does not undo the redrive's.
    const late = new PutCommand({
      TableName: local.tables.history,
      Item: { ...(await rawDefinition(record)), expiresAt: 1_800_000, recordSeq: done.seq },
      ...definitionBefore(done.seq),
    });
    const refused = await local.client.send(late).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused?.name).to.equal('ConditionalCheckFailedException');
    expect(await rawDefinition(record)).not.to.have.property('expiresAt');
  });

  it('leaves no definition behind when it loses the name, and keeps it out of the history, which purges it', async () => {
    const store = newStore();
    const record = realistic();
    expect(await store.create(record)).to.equal(true);
    const again = { ...record, createdAt: '2026-01-01T00:00:05.000Z' };
    expect(await store.create(again)).to.equal(false);
    expect(await rawDefinition(again)).to.equal(undefined);
    expect(await store.claim(record, { token: 't', until: T0 + 60_000 }, T0)).to.equal(true);
    expect((await store.history(record, { limit: 10 })).events).to.deep.equal([record.lastEvent]);
    expect(await store.deleteRecord(record)).to.equal(true);
    expect(await store.purgeHistory(historyKey(record), 10)).to.equal(false);
    expect(await rawDefinition(record)).to.equal(undefined);
  });

  it('finds no machine whose definition item is gone (a delete purging it)', async () => {
    const store = newStore();
    const record = realistic();
    await store.create(record);
    await local.client.send(
      new DeleteCommand({ TableName: local.tables.history, Key: { id: historyKey(record), seq: DEFINITION_SEQ } }),
    );
    expect(await newStore().getRecordOnly(record.id)).to.equal(undefined);
  });
});

describe('the definitions a container keeps', () => {
  it('reads a definition again only once it was dropped for newer ones, past 16 MB of them', async () => {
    // Served from memory: only what the store asks for matters here.
    const reads: string[] = [];
    const config = { STEP: 'x'.repeat(3 * 1024 * 1024) };
    const client = {
      send: async (command: { constructor: { name: string }; input: { TableName: string; Key: { id: string } } }) => {
        const { TableName, Key } = command.input;
        if (TableName === 'machines') {
          const { lastEvent, object, ...item } = machine({ id: Key.id });
          for (const field of ['config', 'options', 'catch', 'timeouts', 'fingerprint']) delete item[field as never];
          return { Item: { ...item, lastEvent, object } };
        }
        reads.push(Key.id);
        return { Item: { ...Key, definition: { config, options: machine().options, fingerprint: 'f' } } };
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoMachineStore(client, { machines: 'machines', history: 'history' });
    for (const id of ['a', 'b', 'c', 'a', 'b', 'c']) expect((await store.getRecordOnly(id))?.config).to.equal(config);
    expect(reads).to.have.length(3);
    for (const id of ['d', 'e', 'f']) await store.getRecordOnly(id);
    // 6 x 3 MB: the least recently used (a) is dropped, the newer ones kept.
    await store.getRecordOnly('f');
    await store.getRecordOnly('a');
    expect(reads.map((key) => key.split('/')[0])).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f', 'a']);
  });
});
