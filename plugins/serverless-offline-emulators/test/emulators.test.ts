import { createServer, type Server } from 'node:http';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { createTables, startDynamoDb } from '../src/dynamodb';
import { failedMessages, startSqsEventSource } from '../src/eventSource';
import { scopeEnvPerInvocation } from '../src/invocationEnv';
import type { LogRecord, RequestRecord } from '../src/recorder';
import { close, freePort, listen, type Running } from '../src/servers';
import { createQueues, sqsClient, startSqs } from '../src/sqs';

const AGENT = 'test-event-source';
const arns = { region: 'us-east-1', accountId: '000000000000' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dynamodb: dynalite with the request recorder', () => {
  let db: Running;
  const records: LogRecord[] = [];

  before(async () => {
    db = await startDynamoDb({
      port: await freePort(),
      host: '127.0.0.1',
      ...arns,
      recorder: { record: (r) => records.push(r) },
      eventSourceAgent: AGENT,
    });
    await createTables(db.url, 'us-east-1', [
      {
        TableName: 'tbl',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          { AttributeName: 's', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byS',
            KeySchema: [{ AttributeName: 's', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      },
    ]);
  });

  after(() => close(db.server));

  it('keeps an existing table and names the indexes it lacks (a persisted table, resources changed since)', async () => {
    const index = (name: string, key: string) => ({
      IndexName: name,
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    const result = await createTables(db.url, 'us-east-1', [
      {
        TableName: 'tbl',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          { AttributeName: 's', AttributeType: 'S' },
          { AttributeName: 't', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [index('byS', 's'), index('byT', 't')],
      },
    ]);
    expect(result).to.deep.equal({ created: [], kept: ['tbl'], missingIndexes: ['tbl/index/byT'] });
  });

  it('records action, table or index ARN, calling function and consumed capacity, leaving the answer intact', async () => {
    records.length = 0;
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: db.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      userAgentAppId: 'writer',
    });
    await client.send(new PutItemCommand({ TableName: 'tbl', Item: { id: { S: '1' }, s: { S: 'a' } } }));
    const failed = await client
      .send(
        new PutItemCommand({
          TableName: 'tbl',
          Item: { id: { S: '1' } },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      )
      .catch((error: Error) => error.name);
    const { Items } = await client.send(
      new QueryCommand({
        TableName: 'tbl',
        IndexName: 'byS',
        KeyConditionExpression: 's = :s',
        ExpressionAttributeValues: { ':s': { S: 'a' } },
      }),
    );
    client.destroy();
    expect(failed).to.equal('ConditionalCheckFailedException');
    expect(Items).to.have.length(1);
    const [put, conditional, query] = records as RequestRecord[];
    expect(put).to.include({ service: 'dynamodb', action: 'PutItem', function: 'writer', status: 200 });
    expect(put?.resources).to.deep.equal(['arn:aws:dynamodb:us-east-1:000000000000:table/tbl']);
    expect(put?.capacityUnits).to.be.greaterThan(0);
    expect(conditional).to.include({ status: 400, error: 'ConditionalCheckFailedException' });
    expect(query).to.include({ action: 'Query' });
    expect(query?.resources).to.deep.equal(['arn:aws:dynamodb:us-east-1:000000000000:table/tbl/index/byS']);
  });
});

describe('sqs: event source', function () {
  this.timeout(20_000);
  let sqsServer: Running;
  let lambdaServer: Server;
  let lambdaUrl: string;
  let sqs: SQSClient;
  let urls: Record<string, string>;
  const records: LogRecord[] = [];
  /** What the fake function answers for a message body. */
  let answer: (bodies: string[], ids: string[]) => unknown = () => null;
  const invocations: string[][] = [];

  before(async () => {
    sqsServer = await startSqs({
      port: await freePort(),
      host: '127.0.0.1',
      ...arns,
      recorder: { record: (r) => records.push(r) },
      eventSourceAgent: AGENT,
    });
    urls = await createQueues(sqsServer.url, 'us-east-1', [
      { logicalId: 'Dead', QueueName: 'dead', Attributes: {}, dependsOn: [] },
      {
        logicalId: 'Work',
        QueueName: 'work',
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dead',
            maxReceiveCount: 2,
          }),
        },
        dependsOn: ['Dead'],
      },
    ]);
    sqs = sqsClient(sqsServer.url, 'us-east-1');
    lambdaServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const { Records } = JSON.parse(body) as { Records: { body: string; messageId: string }[] };
        invocations.push(Records.map((r) => r.body));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            answer(
              Records.map((r) => r.body),
              Records.map((r) => r.messageId),
            ),
          ),
        );
      });
    });
    const port = await freePort();
    await listen(lambdaServer, port, '127.0.0.1');
    lambdaUrl = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    sqs.destroy();
    await close(lambdaServer);
    await close(sqsServer.server);
  });

  it('reads batchItemFailures as Lambda does', () => {
    const payload = (value: unknown) => ({ Payload: new TextEncoder().encode(JSON.stringify(value)) });
    expect([...failedMessages({ FunctionError: 'Unhandled' }, true, ['a', 'b'])]).to.deep.equal(['a', 'b']);
    expect([
      ...failedMessages(payload({ batchItemFailures: [{ itemIdentifier: 'b' }] }), true, ['a', 'b']),
    ]).to.deep.equal(['b']);
    expect([
      ...failedMessages(payload({ batchItemFailures: [{ itemIdentifier: 'b' }] }), false, ['a', 'b']),
    ]).to.deep.equal([]);
    expect([
      ...failedMessages(payload({ batchItemFailures: [{ itemIdentifier: 'zz' }] }), true, ['a', 'b']),
    ]).to.deep.equal(['a', 'b']);
    expect([...failedMessages(payload(null), true, ['a'])]).to.deep.equal([]);
  });

  it('invokes with what arrived, deletes the successes and leaves failures to the visibility timeout and the DLQ', async () => {
    answer = (bodies, ids) => ({
      batchItemFailures: bodies.flatMap((b, i) => (b === 'poison' ? [{ itemIdentifier: ids[i] }] : [])),
    });
    const source = startSqsEventSource({
      region: 'us-east-1',
      sqsEndpoint: sqsServer.url,
      lambdaEndpoint: lambdaUrl,
      queueUrl: urls.Work as string,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:work',
      functionKey: 'worker',
      functionName: 'svc-dev-worker',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-worker',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      batchSize: 10,
      batchingWindowSeconds: 0,
      pollers: 2,
      reportBatchItemFailures: true,
      userAgent: AGENT,
      recorder: { record: (r) => records.push(r) },
    });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: urls.Work, MessageBody: 'ok' }));
      await sqs.send(new SendMessageCommand({ QueueUrl: urls.Work, MessageBody: 'poison' }));
      const deadline = Date.now() + 8000;
      let dead: string | undefined;
      while (!dead && Date.now() < deadline) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: urls.Dead, WaitTimeSeconds: 1 }),
        );
        dead = Messages[0]?.Body;
      }
      expect(dead).to.equal('poison');
    } finally {
      await source.stop();
    }
    const delivered = invocations.flat();
    expect(delivered.filter((b) => b === 'ok')).to.have.length(1);
    expect(delivered.filter((b) => b === 'poison')).to.have.length(2); // maxReceiveCount
    const invocationRecords = records.filter((r) => r.kind === 'invocation');
    expect(invocationRecords.length).to.equal(invocations.length);
    expect(invocationRecords[0]).to.include({ function: 'worker', trigger: 'sqs' });
    const deletes = records.filter((r) => r.kind === 'request' && r.action === 'DeleteMessageBatch') as RequestRecord[];
    expect(deletes.length).to.be.at.least(1);
    expect(deletes[0]).to.include({ function: 'worker', eventSource: 'sqs' });
  });
});

describe('invocationEnv: per-invocation environment', () => {
  it('gives each async context the value its own invocation wrote, whatever was written since', async () => {
    const restore = scopeEnvPerInvocation(['TEST_APP_ID']);
    try {
      const invocation = async (id: string, waitMs: number) => {
        Object.assign(process.env, { TEST_APP_ID: id });
        await sleep(waitMs);
        return process.env.TEST_APP_ID;
      };
      const results = await Promise.all([invocation('a', 30), invocation('b', 10), invocation('c', 20)]);
      expect(results).to.deep.equal(['a', 'b', 'c']);
      expect(process.env.TEST_APP_ID).to.equal('c');
    } finally {
      restore();
      delete process.env.TEST_APP_ID;
    }
  });
});
