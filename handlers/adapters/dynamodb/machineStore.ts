import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_STATUS_SHARDS, HISTORY_RETENTION_MARGIN_DAYS } from '../../../domain/limits';
import type { IndexPosition, IndexShard, ListPosition } from '../../../domain/listing';
import {
  type HistoryEvent,
  type HistoryOwner,
  hasLiveLease,
  historyKey,
  type Lease,
  type MachineRecord,
  type MachineStatus,
  type MachineSummary,
  unwrittenEvents,
} from '../../../domain/machine';
import { createdKey, dueIndexKey, indexKeys, statusShardKey } from '../../../domain/statusIndex';
import { writeUnits } from '../../../domain/storable';
import { pageByStatus } from '../../application/listMachines';
import type { CommitGuard, MachineStore, StatusIndexPage } from '../../application/ports';
import {
  type Condition,
  committable,
  free,
  heldInRecord,
  isNew,
  leasedBy,
  sameVersion,
  unleasedOrLeasedBy,
} from './conditions';
import { leftoversOf, sendUntilProcessed } from './leftovers';
import { SUMMARY_FIELDS, toEvents, toHistoryItem, toRecord, toSummary } from './recordMapper';

/** The status index's name (resources/dynamodb.yml): hash key `statusShard`, range key `createdKey`. */
export const STATUS_INDEX = 'byStatusShard';
/** The due index (resources/dynamodb.yml): hash key `statusShard`, range key `dueBucket`, RUNNING machines only. */
export const DUE_INDEX = 'byDueBucket';
/** BatchWriteItem's limit. */
const BATCH_WRITE_SIZE = 25;

export interface TableNames {
  machines: string;
  history: string;
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; undefined when its condition did not hold. */
async function conditionally<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Machines and their history in DynamoDB: a record per machine, an item per history event. */
export class DynamoMachineStore implements MachineStore {
  readonly statusShards: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    options: { statusShards?: number } = {},
  ) {
    this.statusShards = options.statusShards ?? DEFAULT_STATUS_SHARDS;
  }

  async get(id: string): Promise<MachineRecord | undefined> {
    const record = await this.getRecord(id);
    if (!record) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.history,
        Key: this.stepKey(record),
        ConsistentRead: true,
        ProjectionExpression: 'lease',
      }),
    );
    const lease = (Item?.lease as Lease | undefined) ?? record.lease;
    const { lease: _marked, ...rest } = record;
    return lease ? { ...rest, lease } : rest;
  }

  async getRecord(id: string): Promise<MachineRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.machines, Key: { id }, ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async create(record: MachineRecord): Promise<boolean> {
    return (await this.put(record, isNew)) !== undefined;
  }

  /**
   * The lease lives on the history item of the record's `seq` (docs/design.md#lease), which is
   * small: a claim is billed one write unit however large the machine's object is, and it writes
   * the history events the record's next commit replaces. A chain's lease in the record, live,
   * holds the step as well (docs/design.md#run-on).
   */
  async claim(record: MachineRecord, lease: Lease, now: number): Promise<boolean> {
    if (hasLiveLease(record, now)) return false;
    const written = await conditionally(
      this.client.send(
        new PutCommand({ TableName: this.tables.history, Item: { ...this.historyItem(record), lease }, ...free(now) }),
      ),
    );
    return written !== undefined;
  }

  /**
   * Ends the lease rather than removing it: readers take the history item's lease before the
   * record's, so an ended one there keeps an older lease in the record (a chain's) ended too. The
   * item is put as a claim puts it (the events of the record's `seq`), its lease ended: over our
   * own lease, or, for a chain's lease in the record, over an item nobody leased.
   */
  async releaseClaim(record: MachineRecord, token: string): Promise<void> {
    const ours = record.lease?.token === token ? unleasedOrLeasedBy(token) : leasedBy(token);
    await conditionally(
      this.client.send(
        new PutCommand({
          TableName: this.tables.history,
          Item: { ...this.historyItem(record), lease: { token, until: 0 } },
          ...ours,
        }),
      ),
    );
  }

  async commit(next: MachineRecord, guard: CommitGuard): Promise<boolean> {
    return (await this.put(next, committable(guard, next.createdAt))) !== undefined;
  }

  async writeRecordEvents(record: MachineRecord): Promise<void> {
    // A claim of this step wrote the same event and may hold a lease the put must not drop.
    await conditionally(
      this.client.send(new PutCommand({ TableName: this.tables.history, Item: this.historyItem(record), ...isNew })),
    );
  }

  async markRemoving(record: MachineRecord, now: number): Promise<boolean> {
    const condition = heldInRecord(record, now);
    const marked = await conditionally(
      this.client.send(
        new UpdateCommand({
          TableName: this.tables.machines,
          Key: { id: record.id },
          UpdateExpression: 'SET removing = :removing',
          ...condition,
          ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':removing': true },
        }),
      ),
    );
    return marked !== undefined;
  }

  writeUnits(record: MachineRecord): number {
    return writeUnits(this.item(record));
  }

  async deleteRecord(record: Pick<MachineRecord, 'id' | 'seq' | 'createdAt'>): Promise<boolean> {
    const deleted = await conditionally(
      this.client.send(
        new DeleteCommand({ TableName: this.tables.machines, Key: { id: record.id }, ...sameVersion(record) }),
      ),
    );
    return deleted !== undefined;
  }

  async purgeHistory(key: string, maxItems: number): Promise<boolean> {
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.history,
        KeyConditionExpression: 'id = :id',
        ExpressionAttributeValues: { ':id': key },
        ProjectionExpression: 'id, seq',
        Limit: maxItems,
      }),
    );
    const table = this.tables.history;
    for (let i = 0; i < Items.length; i += BATCH_WRITE_SIZE) {
      await sendUntilProcessed(
        Items.slice(i, i + BATCH_WRITE_SIZE).map((Key) => ({ DeleteRequest: { Key } })),
        async (requests) => {
          const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          return leftoversOf(result.UnprocessedItems?.[table] as typeof requests | undefined);
        },
        'history deletes',
      );
    }
    return LastEvaluatedKey !== undefined;
  }

  /** The history item of a record's current step: where its step's lease is held. */
  private stepKey(record: MachineRecord) {
    return { id: historyKey(record), seq: record.seq };
  }

  /**
   * The events the record holds, as the history item of its `seq`. History items outlive a
   * machine that expires by at most their own TTL, which is set when they are written (the
   * machine's end is not known yet); reads go through the machine record first.
   */
  private historyItem(record: MachineRecord) {
    const retentionDays = record.options.retentionDays + HISTORY_RETENTION_MARGIN_DAYS;
    const expiresAt = Math.floor(Date.parse(record.lastEvent.at) / 1000) + retentionDays * 86_400;
    return toHistoryItem(historyKey(record), unwrittenEvents(record), expiresAt);
  }

  async history(
    owner: HistoryOwner,
    { after, limit }: { after?: number; limit: number },
  ): Promise<{ events: HistoryEvent[]; more: boolean }> {
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.history,
        KeyConditionExpression: after === undefined ? 'id = :id' : 'id = :id AND seq > :after',
        ExpressionAttributeValues: { ':id': historyKey(owner), ...(after === undefined ? {} : { ':after': after }) },
        Limit: limit,
      }),
    );
    // An item carries the events of a chain before its own (docs/design.md#history): some may be
    // older than `after`, or in an item before it too.
    const bySeq = new Map(Items.flatMap(toEvents).map((event) => [event.seq, event]));
    const events = [...bySeq.values()]
      .filter((event) => after === undefined || event.seq > after)
      .sort((a, b) => a.seq - b.seq);
    return { events, more: LastEvaluatedKey !== undefined };
  }

  async pageByShard({ status, shard }: IndexShard, limit: number, after?: ListPosition): Promise<StatusIndexPage> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tables.machines,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: after === undefined ? '#shard = :shard' : '#shard = :shard AND #created < :after',
        ExpressionAttributeNames: {
          '#shard': 'statusShard',
          ...(after === undefined ? {} : { '#created': 'createdKey' }),
        },
        ExpressionAttributeValues: {
          ':shard': statusShardKey(status, shard),
          ...(after === undefined ? {} : { ':after': createdKey(after) }),
        },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    // Keys only: the id is the table's key, status and createdAt are read back from the index keys.
    const keys = (page.Items ?? []).map(({ id, createdKey }) => ({
      id: id as string,
      status,
      createdAt: (createdKey as string).slice(0, -(id as string).length - 1),
    }));
    return { keys, more: page.LastEvaluatedKey !== undefined };
  }

  pageByStatus(status: MachineStatus, limit: number, after?: IndexPosition): Promise<StatusIndexPage> {
    return pageByStatus(this, status, limit, after);
  }

  async dueByShard(shard: number, upTo: number, limit: number): Promise<string[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.machines,
        IndexName: DUE_INDEX,
        KeyConditionExpression: 'statusShard = :shard AND dueBucket <= :upTo',
        ExpressionAttributeValues: { ':shard': statusShardKey('RUNNING', shard), ':upTo': upTo },
        Limit: limit,
      }),
    );
    return Items.map((item) => item.id as string);
  }

  async summaries(ids: string[]): Promise<MachineSummary[]> {
    if (ids.length === 0) return [];
    const found = new Map<string, MachineSummary>();
    const names = Object.fromEntries(SUMMARY_FIELDS.map((field) => [`#${field}`, field]));
    await sendUntilProcessed(
      ids.map((id): Record<string, unknown> => ({ id })),
      async (keys) => {
        const result: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tables.machines]: {
                Keys: keys,
                ProjectionExpression: Object.keys(names).join(', '),
                ExpressionAttributeNames: names,
              },
            },
          }),
        );
        for (const item of result.Responses?.[this.tables.machines] ?? []) {
          const summary = toSummary(item);
          found.set(summary.id, summary);
        }
        return leftoversOf(result.UnprocessedKeys?.[this.tables.machines]?.Keys);
      },
      'machine summaries',
    );
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  /**
   * Every write of a record's status is this PutItem, and it writes the status index's keys
   * from that status (domain/statusIndex.ts): they change in the same write as the status, and
   * an ordinary step writes the same keys again, which DynamoDB does not copy to the index. So
   * does the due index's key, which changes only when a step is due in a later bucket.
   */
  private put(record: MachineRecord, condition: Condition) {
    return conditionally(
      this.client.send(new PutCommand({ TableName: this.tables.machines, Item: this.item(record), ...condition })),
    );
  }

  /** The record as stored: with the keys of the status and due indexes. */
  private item(record: MachineRecord) {
    return { ...record, ...indexKeys(record, this.statusShards), ...dueIndexKey(record) };
  }
}
