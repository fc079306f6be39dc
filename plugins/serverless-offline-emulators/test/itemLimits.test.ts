import {
  type AttributeValue,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { expect } from 'chai';
import { itemSize as recordSize } from '../../../domain/storable';
import { createTables, startDynamoDb } from '../src/dynamodb';
import { itemSize, MAX_ITEM_BYTES, MAX_NESTING_LEVELS, nestingLevels } from '../src/itemLimits';
import type { LogRecord, RequestRecord } from '../src/recorder';
import { close, freePort, type Running } from '../src/servers';

const nested = (levels: number): AttributeValue => {
  let value: AttributeValue = { S: 'deep' };
  for (let i = 0; i < levels; i++) value = { L: [value] };
  return value;
};

describe('item limits: sizes as DynamoDB counts them', () => {
  it('agrees with the size the service checks its records by (domain/storable.ts)', () => {
    const record = {
      id: 'm-1',
      object: { name: 'Zoë €', n: [1, -2.5, 1e15, 0.125, 0], flags: [true, null], nested: { a: { b: [[]] } } },
      version: 12,
    };
    expect(itemSize(marshall(record, { removeUndefinedValues: true }) as never)).to.equal(recordSize(record));
  });

  it('counts nesting levels of maps and lists', () => {
    expect(nestingLevels({ S: 'x' })).to.equal(0);
    expect(nestingLevels({ M: { a: { L: [{ N: '1' }] } } })).to.equal(2);
    expect(nestingLevels(nested(MAX_NESTING_LEVELS) as never)).to.equal(MAX_NESTING_LEVELS);
  });
});

describe('dynamodb: DynamoDB item limits dynalite does not apply', () => {
  let db: Running;
  let client: DynamoDBClient;
  const records: LogRecord[] = [];

  before(async () => {
    db = await startDynamoDb({
      port: await freePort(),
      host: '127.0.0.1',
      region: 'us-east-1',
      accountId: '000000000000',
      recorder: { record: (r) => records.push(r) },
      eventSourceAgent: 'es',
    });
    await createTables(db.url, 'us-east-1', [
      {
        TableName: 'tbl',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      },
    ]);
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: db.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
  });

  after(async () => {
    client?.destroy();
    if (db) await close(db.server);
  });

  const put = (id: string, value: AttributeValue) =>
    client.send(new PutItemCommand({ TableName: 'tbl', Item: { id: { S: id }, value } })).then(
      () => 'ok',
      (error: Error) => `${error.name}: ${error.message}`,
    );

  it('refuses an item over 400 KB in UTF-8 bytes though under 400 K characters (PutItem, BatchWriteItem)', async () => {
    // 140,000 characters of 3 bytes each: 420,000 bytes.
    const euros = '€'.repeat(140_000);
    expect(Buffer.byteLength(euros)).to.be.greaterThan(MAX_ITEM_BYTES);
    expect(euros.length).to.be.lessThan(MAX_ITEM_BYTES);
    expect(await put('big', { S: euros })).to.equal(
      'ValidationException: Item size has exceeded the maximum allowed size',
    );
    const batch = await client
      .send(
        new BatchWriteItemCommand({
          RequestItems: { tbl: [{ PutRequest: { Item: { id: { S: 'big2' }, value: { S: euros } } } }] },
        }),
      )
      .then(
        () => 'ok',
        (error: Error) => `${error.name}: ${error.message}`,
      );
    expect(batch).to.equal('ValidationException: Item size has exceeded the maximum allowed size');
    // Just under the limit in bytes is written.
    expect(await put('fits', { S: '€'.repeat(130_000) })).to.equal('ok');
    const { Item } = await client.send(new GetItemCommand({ TableName: 'tbl', Key: { id: { S: 'big' } } }));
    expect(Item).to.equal(undefined);
  });

  it(`refuses more than ${MAX_NESTING_LEVELS} levels of nested maps and lists`, async () => {
    expect(await put('deep-ok', nested(MAX_NESTING_LEVELS))).to.equal('ok');
    expect(await put('too-deep', nested(MAX_NESTING_LEVELS + 1))).to.equal(
      'ValidationException: Nesting Levels have exceeded supported limits',
    );
    const refused = records.filter(
      (r): r is RequestRecord => r.kind === 'request' && r.action === 'PutItem' && r.status === 400,
    );
    expect(refused.map((r) => r.error)).to.deep.equal(['ValidationException', 'ValidationException']);
  });
});
