import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { IndexPosition } from '../../domain/listing';
import type {
  HistoryEvent,
  Lease,
  MachineRecord,
  MachineStatus,
  MachineSummary,
  StepMessage,
} from '../../domain/machine';
import { countRequests, type MetricsTarget } from './requestMetrics';

export const STATUS_INDEX = 'byStatus';

export function createDocumentClient(options: {
  region: string;
  endpoint?: string;
  metrics?: MetricsTarget;
}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ region: options.region, endpoint: options.endpoint });
  if (options.metrics) countRequests(client, 'dynamodb', options.metrics);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; false when its condition did not hold. */
async function conditionally(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Machines and their history in DynamoDB. Every write that races another is conditional: on the
 * step (version + attempt), on the lease token, or on `seq`, so no step is committed twice.
 */
export class MachineStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { machines: string; history: string },
  ) {}

  async get(id: string): Promise<MachineRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.machines, Key: { id }, ConsistentRead: true }),
    );
    return Item as MachineRecord | undefined;
  }

  /** False when a machine with this id already exists. */
  create(record: MachineRecord): Promise<boolean> {
    return conditionally(
      this.client.send(
        new PutCommand({
          TableName: this.tables.machines,
          Item: record,
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      ),
    );
  }

  /**
   * The happy path of a step in one request: claims the step `message` names for `lease` and
   * returns the record, if and only if decide() would say 'run' (the machine exists, is RUNNING
   * at exactly this version and attempt, is not being removed, has no live lease and is due).
   * Undefined otherwise: the caller reads the record and decides.
   */
  leaseStep(message: StepMessage, lease: Lease, now: number): Promise<MachineRecord | undefined> {
    return this.claim({ ...message, status: 'RUNNING' }, lease, now, { due: true });
  }

  /** Claims the record's current step for `lease`; false when the step moved on or is held. */
  async takeLease(record: MachineRecord, lease: Lease, now: number): Promise<boolean> {
    return (await this.claim(record, lease, now, { due: false })) !== undefined;
  }

  /**
   * Sets `lease` on the machine if it is still at `step` (version, attempt and status), is not
   * being removed and has no live lease; with `due`, also only once its wakeAt has come.
   * Returns the leased record, or undefined when any of that does not hold.
   */
  private async claim(
    step: { id: string; version: number; attempt: number; status: MachineStatus },
    lease: Lease,
    now: number,
    { due }: { due: boolean },
  ): Promise<MachineRecord | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tables.machines,
          Key: { id: step.id },
          UpdateExpression: 'SET lease = :lease',
          ConditionExpression:
            'version = :version AND attempt = :attempt AND #status = :status AND attribute_not_exists(removing) ' +
            'AND (attribute_not_exists(lease) OR lease.#until <= :now)' +
            (due ? ' AND (attribute_not_exists(wakeAt) OR wakeAt <= :nowIso)' : ''),
          ExpressionAttributeNames: { '#status': 'status', '#until': 'until' },
          ExpressionAttributeValues: {
            ':lease': lease,
            ':version': step.version,
            ':attempt': step.attempt,
            ':status': step.status,
            ':now': now,
            ...(due ? { ':nowIso': new Date(now).toISOString() } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as MachineRecord;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Gives up the lease `token`, if it is still ours. */
  async releaseLease(id: string, token: string): Promise<void> {
    await conditionally(
      this.client.send(
        new UpdateCommand({
          TableName: this.tables.machines,
          Key: { id },
          UpdateExpression: 'REMOVE lease',
          ConditionExpression: 'lease.#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': token },
        }),
      ),
    );
  }

  /** Replaces the record if we still hold the live lease `token` on its step `expected`. */
  commit(next: MachineRecord, expected: { version: number; attempt: number; token: string; now: number }) {
    return conditionally(
      this.client.send(
        new PutCommand({
          TableName: this.tables.machines,
          Item: next,
          ConditionExpression:
            'version = :version AND attempt = :attempt AND lease.#token = :token AND lease.#until > :now ' +
            'AND attribute_not_exists(removing)',
          ExpressionAttributeNames: { '#token': 'token', '#until': 'until' },
          ExpressionAttributeValues: {
            ':version': expected.version,
            ':attempt': expected.attempt,
            ':token': expected.token,
            ':now': expected.now,
          },
        }),
      ),
    );
  }

  /** Replaces the record if nothing was committed since `expectedSeq` was read. */
  replace(next: MachineRecord, expectedSeq: number): Promise<boolean> {
    return conditionally(
      this.client.send(
        new PutCommand({
          TableName: this.tables.machines,
          Item: next,
          ConditionExpression: 'seq = :seq',
          ExpressionAttributeValues: { ':seq': expectedSeq },
        }),
      ),
    );
  }

  /** Deletes the machine unless a handler holds a live lease on it; false otherwise or if missing. */
  deleteIfIdle(id: string, now: number): Promise<boolean> {
    return conditionally(
      this.client.send(
        new DeleteCommand({
          TableName: this.tables.machines,
          Key: { id },
          ConditionExpression: 'attribute_exists(id) AND (attribute_not_exists(lease) OR lease.#until <= :now)',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
  }

  /** Deletes the machine and every history item it has. */
  async deleteMachine(id: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tables.machines, Key: { id } }));
    await this.deleteHistory(id);
  }

  async deleteHistory(id: string): Promise<void> {
    for await (const keys of this.historyPages(id, 'id, seq')) {
      for (let i = 0; i < keys.length; i += 25) {
        let requests: Record<string, unknown[]> | undefined = {
          [this.tables.history]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
        };
        while (requests && Object.keys(requests).length > 0) {
          const result = await this.client.send(new BatchWriteCommand({ RequestItems: requests as never }));
          requests = result.UnprocessedItems as Record<string, unknown[]> | undefined;
        }
      }
    }
  }

  /** A machine's history items, a page at a time, oldest first. */
  private async *historyPages(id: string, projection?: string): AsyncGenerator<Record<string, unknown>[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tables.history,
          KeyConditionExpression: 'id = :id',
          ExpressionAttributeValues: { ':id': id },
          ProjectionExpression: projection,
          ExclusiveStartKey: startKey,
        }),
      );
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * Writes the record's latest event (the one its last commit made) to the history: every writer
   * calls this before a commit of its own replaces that event in the record. Idempotent (keyed by
   * `seq`). History items outlive a machine that expires by at most their own TTL; reads go
   * through the machine record first.
   */
  async putLatestEvent(record: MachineRecord): Promise<void> {
    const event = record.lastEvent;
    const expiresAt = Math.floor(Date.parse(event.at) / 1000) + (record.options.retentionDays + 400) * 86_400;
    await this.client.send(
      new PutCommand({ TableName: this.tables.history, Item: { id: record.id, ...event, expiresAt } }),
    );
  }

  /** The written history of a machine, oldest first (the record's `lastEvent` may not be in it yet). */
  async history(id: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    for await (const items of this.historyPages(id)) {
      for (const { id: _id, expiresAt: _expiresAt, ...event } of items) events.push(event as unknown as HistoryEvent);
    }
    return events;
  }

  /** One page of machines with `status`, newest first, from the keys-only status index. */
  async pageByStatus(
    status: MachineStatus,
    limit: number,
    after?: IndexPosition,
  ): Promise<{ keys: IndexPosition[]; more: boolean }> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tables.machines,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: '#status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: after,
      }),
    );
    return { keys: (page.Items ?? []) as IndexPosition[], more: page.LastEvaluatedKey !== undefined };
  }

  /** Summaries of the machines `ids`, in the order given; machines deleted meanwhile are left out. */
  async summaries(ids: string[]): Promise<MachineSummary[]> {
    if (ids.length === 0) return [];
    const found = new Map<string, MachineSummary>();
    let keys: Record<string, unknown>[] | undefined = ids.map((id) => ({ id }));
    while (keys && keys.length > 0) {
      const result: BatchGetCommandOutput = await this.client.send(
        new BatchGetCommand({
          RequestItems: {
            [this.tables.machines]: {
              Keys: keys,
              ProjectionExpression: 'id, #name, #state, #status, version, createdAt, updatedAt, expiresAt',
              ExpressionAttributeNames: { '#name': 'name', '#state': 'state', '#status': 'status' },
            },
          },
        }),
      );
      for (const item of result.Responses?.[this.tables.machines] ?? []) {
        found.set(item.id as string, item as MachineSummary);
      }
      keys = result.UnprocessedKeys?.[this.tables.machines]?.Keys;
    }
    return ids.flatMap((id) => found.get(id) ?? []);
  }
}
