import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { DUE_INDEX, STATUS_INDEX } from '../../handlers/adapters/dynamodb/machineStore';

export interface LocalTables {
  client: DynamoDBDocumentClient;
  tables: { machines: string; history: string };
  stop(): Promise<void>;
}

/**
 * dynalite on a free port with the machines and history tables as resources/dynamodb.yml
 * declares them, for the adapter tests: DynamoDB's own condition evaluation, not a fake's.
 */
export async function startLocalTables(): Promise<LocalTables> {
  const server: Server = dynalite({ createTableMs: 0 });
  // Port 0: the OS picks a free one as it listens, so no other process can take it first.
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const raw = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tables = { machines: 'machines', history: 'history' };
  await raw.send(
    new CreateTableCommand({
      TableName: tables.machines,
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'statusShard', AttributeType: 'S' },
        { AttributeName: 'createdKey', AttributeType: 'S' },
        { AttributeName: 'dueBucket', AttributeType: 'N' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: STATUS_INDEX,
          KeySchema: [
            { AttributeName: 'statusShard', KeyType: 'HASH' },
            { AttributeName: 'createdKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: DUE_INDEX,
          KeySchema: [
            { AttributeName: 'statusShard', KeyType: 'HASH' },
            { AttributeName: 'dueBucket', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await raw.send(
    new CreateTableCommand({
      TableName: tables.history,
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'seq', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'id', KeyType: 'HASH' },
        { AttributeName: 'seq', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return {
    client,
    tables,
    async stop() {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
