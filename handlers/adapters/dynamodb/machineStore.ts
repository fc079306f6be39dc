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
import { byteLength } from '../../../domain/definition';
import { DEFAULT_STATUS_SHARDS, HISTORY_RETENTION_MARGIN_DAYS } from '../../../domain/limits';
import type { IndexShard, ListPosition } from '../../../domain/listing';
import {
  type HistoryEvent,
  type HistoryOwner,
  hasLiveLease,
  historyKey,
  type Lease,
  type MachineRecord,
  type MachineSummary,
  unwrittenEvents,
} from '../../../domain/machine';
import { createdKey, dueIndexKey, indexKeys, statusShardKey } from '../../../domain/statusIndex';
import { writeUnits } from '../../../domain/storable';
import type { CommitGuard, MachineStore, StatusIndexPage } from '../../application/ports';
import {
  type Condition,
  committable,
  definitionBefore,
  free,
  heldInRecord,
  isNew,
  isWrite,
  leasedBy,
  unleasedOrLeasedBy,
} from './conditions';
import { leftoversOf, sendUntilProcessed } from './leftovers';
import {
  DEFINITION_SEQ,
  type Definition,
  definitionKey,
  definitionOf,
  fromDefinitionItem,
  holdsDefinition,
  SUMMARY_FIELDS,
  toDefinitionItem,
  toEvents,
  toHistoryItem,
  toRecord,
  toRecordItem,
  toSummary,
} from './recordMapper';

/** The status index's name (resources/dynamodb.yml): hash key `statusShard`, range key `createdKey`. */
export const STATUS_INDEX = 'byStatusShard';
/** The due index (resources/dynamodb.yml): hash key `statusShard`, range key `dueBucket`, RUNNING machines only. */
export const DUE_INDEX = 'byDueBucket';
/** BatchWriteItem's limit. */
const BATCH_WRITE_SIZE = 25;
/**
 * Definitions a container keeps: far more machines than one invocation touches, and at most
 * 16 MB of their JSON, so machines with large configs cannot fill a 256 MB function's memory.
 */
const DEFINITIONS_CACHED = 1000;
const DEFINITION_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * A machine's definition as this container knows it (docs/design.md#the-record): read at most
 * once per container, since it never changes. `stored`: its own item exists (false: the record
 * read held it, as records did before the definition moved). `final`: the record last read was
 * finished, so the definition item may carry an expiry a commit that revives it must remove.
 */
interface KnownDefinition {
  definition: Definition;
  /** Its JSON's size, what keeping it costs. */
  bytes: number;
  stored: boolean;
  final: boolean;
}

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
  /** By history key (id and createdAt), least recently used first. */
  private readonly definitions = new Map<string, KnownDefinition>();
  private definitionBytes = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    options: { statusShards?: number } = {},
  ) {
    this.statusShards = options.statusShards ?? DEFAULT_STATUS_SHARDS;
  }

  async getWithLease(id: string): Promise<MachineRecord | undefined> {
    const record = await this.getRecordOnly(id);
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

  async getRecordOnly(id: string): Promise<MachineRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.machines, Key: { id }, ConsistentRead: true }),
    );
    return Item ? this.withDefinition(Item) : undefined;
  }

  /**
   * The record of a machine's item with its definition: the item's own, or the one this container
   * read before, or its definition item. None: the machine is being deleted (a delete removes the
   * record before its history), so it is as good as gone.
   */
  private async withDefinition(item: Record<string, unknown>): Promise<MachineRecord | undefined> {
    const owner = item as Pick<MachineRecord, 'id' | 'createdAt'>;
    const key = historyKey(owner);
    const final = item.expiresAt !== undefined;
    if (holdsDefinition(item)) {
      const record = toRecord(item);
      this.know(key, this.definitions.get(key)?.definition ?? definitionOf(record), { stored: false, final });
      return record;
    }
    let definition = this.definitions.get(key)?.definition;
    if (!definition) {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tables.history, Key: definitionKey(owner), ConsistentRead: true }),
      );
      if (!Item) return undefined;
      definition = fromDefinitionItem(Item);
    }
    this.know(key, definition, { stored: true, final });
    return toRecord(item, definition);
  }

  /** Keeps what this container knows of a definition, as its most recently used. */
  private know(key: string, definition: Definition, state: Pick<KnownDefinition, 'stored' | 'final'>) {
    const known = this.definitions.get(key);
    const bytes = known?.definition === definition ? known.bytes : byteLength(definition);
    if (known) this.forget(key, known);
    this.definitions.set(key, { definition, bytes, ...state });
    this.definitionBytes += bytes;
    for (const [oldest, entry] of this.definitions) {
      if (this.definitions.size <= DEFINITIONS_CACHED && this.definitionBytes <= DEFINITION_CACHE_BYTES) break;
      this.forget(oldest, entry);
    }
  }

  private forget(key: string, known: KnownDefinition) {
    this.definitions.delete(key);
    this.definitionBytes -= known.bytes;
  }

  /**
   * The definition item first, then the record: a reader finds a record only with its definition.
   * A lost race for the name deletes the definition item it wrote (its key has our createdAt).
   */
  async create(record: MachineRecord): Promise<boolean> {
    const definition = await conditionally(
      this.client.send(new PutCommand({ TableName: this.tables.history, Item: toDefinitionItem(record), ...isNew })),
    );
    if (definition === undefined) return false;
    if ((await this.put(record, isNew)) === undefined) {
      await this.client.send(new DeleteCommand({ TableName: this.tables.history, Key: definitionKey(record) }));
      return false;
    }
    this.know(historyKey(record), definitionOf(record), { stored: true, final: false });
    return true;
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

  /**
   * The record's item, and its definition item when it must change (docs/design.md#the-record):
   * written first for a record that held its definition itself (it moves out now), or without
   * its expiry for a finished machine that runs again (a redrive); after the commit, with the
   * record's expiry, for a machine that finishes, so it never expires while its machine lives.
   */
  async commit(next: MachineRecord, guard: CommitGuard): Promise<boolean> {
    const key = historyKey(next);
    const known = this.definitions.get(key);
    const final = next.expiresAt !== undefined;
    if (!known?.stored) {
      await conditionally(
        this.client.send(
          new PutCommand({
            TableName: this.tables.history,
            Item: toDefinitionItem(next, { recordSeq: next.seq }),
            ...isNew,
          }),
        ),
      );
    } else if (known.final && !final) {
      await this.putDefinition(next, {});
    }
    const committed = (await this.put(next, committable(guard, next.createdAt))) !== undefined;
    if (!committed) return false;
    if (final && !known?.final) await this.putDefinition(next, { expiresAt: next.expiresAt });
    this.know(key, known?.definition ?? definitionOf(next), { stored: true, final });
    return true;
  }

  private putDefinition(record: MachineRecord, expiry: { expiresAt?: number }) {
    return conditionally(
      this.client.send(
        new PutCommand({
          TableName: this.tables.history,
          Item: toDefinitionItem(record, { recordSeq: record.seq, ...expiry }),
          ...definitionBefore(record.seq),
        }),
      ),
    );
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
        new DeleteCommand({ TableName: this.tables.machines, Key: { id: record.id }, ...isWrite(record) }),
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
    // The definition item sits below every event (DEFINITION_SEQ).
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.history,
        KeyConditionExpression: 'id = :id AND seq > :after',
        ExpressionAttributeValues: { ':id': historyKey(owner), ':after': after ?? DEFINITION_SEQ },
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
    return { ...toRecordItem(record), ...indexKeys(record, this.statusShards), ...dueIndexKey(record) };
  }
}
