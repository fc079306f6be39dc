import type { IncomingMessage, RequestListener, Server } from 'node:http';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableArn } from './cloudformation';
import { writeLimitError } from './itemLimits';
import { iamActionOf, type Recorder } from './recorder';
import { listen, type Running } from './servers';
import { parseJson, tap, targetAction, userAgentAppId } from './tap';

const DYNAMODB_ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

/** Actions that take ReturnConsumedCapacity. */
const CAPACITY_ACTIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

interface Arns {
  region: string;
  accountId: string;
}

/** The tables (and index) a DynamoDB request names, as ARNs. */
export function dynamodbResources(action: string, body: Record<string, unknown>, arns: Arns): string[] {
  const tables = new Set<string>();
  if (typeof body.TableName === 'string') {
    const table = tableArn(arns, body.TableName);
    tables.add(typeof body.IndexName === 'string' ? `${table}/index/${body.IndexName}` : table);
  }
  if (body.RequestItems && typeof body.RequestItems === 'object') {
    for (const name of Object.keys(body.RequestItems)) tables.add(tableArn(arns, name));
  }
  if (Array.isArray(body.TransactItems)) {
    for (const item of body.TransactItems as Record<string, { TableName?: string }>[]) {
      for (const operation of Object.values(item))
        if (operation?.TableName) tables.add(tableArn(arns, operation.TableName));
    }
  }
  if (tables.size === 0 && action === 'ListTables') tables.add('*');
  return [...tables];
}

export function capacityUnits(response: Record<string, unknown>): number | undefined {
  const consumed = response.ConsumedCapacity as { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;
  if (!consumed) return undefined;
  return [consumed].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

/** Asks for ConsumedCapacity (dynalite only returns it when asked) unless the caller did. */
export function askForCapacity(body: Buffer, headers: IncomingMessage['headers']): Buffer | undefined {
  const action = targetAction(headers);
  if (!action || !CAPACITY_ACTIONS.has(action)) return undefined;
  const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (input.ReturnConsumedCapacity !== undefined) return undefined;
  return Buffer.from(JSON.stringify({ ...input, ReturnConsumedCapacity: 'TOTAL' }));
}

export interface DynamoDbOptions extends Arns {
  port: number;
  host: string;
  /** Keep the data in this folder (LevelDB) instead of in memory. */
  path?: string;
  recorder?: Recorder;
  /**
   * A test option (`dynamodb.unprocessedTries`, SLS_OFFLINE_DYNAMODB_UNPROCESSED): each distinct
   * batch of a BatchWriteItem or BatchGetItem is answered this many times with all of it left
   * unprocessed (UnprocessedItems / UnprocessedKeys), as DynamoDB answers when partitions are busy,
   * before dynalite processes it; dynalite itself never leaves anything.
   */
  unprocessedTries?: number;
  /** Tells requests made by the local event source apart. */
  eventSourceAgent: string;
}

/**
 * dynalite in this process, with DynamoDB's item size and nesting limits added, and every request
 * recorded when a recorder is given.
 */
export async function startDynamoDb(options: DynamoDbOptions): Promise<Running> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.path });
  const { recorder } = options;
  const leaveUnprocessed = options.unprocessedTries ? unprocessedAnswers(options.unprocessedTries) : undefined;
  const listener = server.listeners('request')[0] as RequestListener;
  server.removeAllListeners('request');
  server.on(
    'request',
    tap(listener, {
      rewrite: recorder ? askForCapacity : undefined,
      // DynamoDB's item size (in UTF-8 bytes) and nesting limits, which dynalite does not apply.
      answer: (body, headers) => {
        const input = parseJson(body);
        const message = writeLimitError(targetAction(headers), input);
        if (message) {
          return {
            status: 400,
            body: JSON.stringify({ __type: `${DYNAMODB_ERROR_PREFIX}ValidationException`, message }),
          };
        }
        return leaveUnprocessed?.(targetAction(headers), input);
      },
      onExchange: recorder
        ? (exchange) => {
            const action = targetAction(exchange.headers);
            if (!action) return;
            const response = parseJson(exchange.response);
            const errorType = exchange.status >= 400 ? String(response.__type ?? 'Error') : undefined;
            const fn = userAgentAppId(exchange.headers);
            recorder.record({
              kind: 'request',
              at: exchange.startedAt,
              service: 'dynamodb',
              action,
              iamAction: iamActionOf('dynamodb', action),
              resources: dynamodbResources(action, parseJson(exchange.request), options),
              ...(fn ? { function: fn } : {}),
              status: exchange.status,
              ...(errorType ? { error: errorType.slice(errorType.lastIndexOf('#') + 1) } : {}),
              ...(CAPACITY_ACTIONS.has(action) ? { capacityUnits: capacityUnits(response) ?? 0 } : {}),
              durationMs: exchange.durationMs,
            });
          }
        : undefined,
    }),
  );
  await listen(server, options.port, options.host);
  return { server, url: `http://${options.host}:${options.port}` };
}

/**
 * Answers each distinct batch (by its RequestItems) of a BatchWriteItem or BatchGetItem `tries`
 * times with nothing processed, then lets it through: a client that sends the leftovers again
 * gets everything done, one that does not loses them.
 */
export function unprocessedAnswers(tries: number) {
  const refused = new Map<string, number>();
  return (action: string | undefined, input: Record<string, unknown>): { status: number; body: string } | undefined => {
    if ((action !== 'BatchWriteItem' && action !== 'BatchGetItem') || !input.RequestItems) return undefined;
    const key = JSON.stringify(input.RequestItems);
    const times = refused.get(key) ?? 0;
    if (times >= tries) {
      refused.delete(key);
      return undefined;
    }
    refused.set(key, times + 1);
    const answer =
      action === 'BatchWriteItem'
        ? { UnprocessedItems: input.RequestItems }
        : { Responses: {}, UnprocessedKeys: input.RequestItems };
    return { status: 200, body: JSON.stringify(answer) };
  };
}

/**
 * Creates each table unless it exists (a persisted one is kept as it is). Returns the names
 * created and kept, and the global secondary indexes a kept table lacks (dynalite cannot add one
 * to a table, as CloudFormation would on a deploy).
 */
export async function createTables(
  url: string,
  region: string,
  tables: Record<string, unknown>[],
): Promise<{ created: string[]; kept: string[]; missingIndexes: string[] }> {
  const client = new DynamoDBClient({
    region,
    endpoint: url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const created: string[] = [];
  const kept: string[] = [];
  const missingIndexes: string[] = [];
  try {
    for (const table of tables) {
      try {
        await client.send(new CreateTableCommand(table as never));
        created.push(String(table.TableName));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        kept.push(String(table.TableName));
        const { Table } = await client.send(new DescribeTableCommand({ TableName: String(table.TableName) }));
        const has = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
        for (const { IndexName } of (table.GlobalSecondaryIndexes ?? []) as { IndexName: string }[]) {
          if (!has.has(IndexName)) missingIndexes.push(`${table.TableName}/index/${IndexName}`);
        }
      }
    }
  } finally {
    client.destroy();
  }
  return { created, kept, missingIndexes };
}
