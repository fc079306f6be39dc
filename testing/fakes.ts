import type { IndexShard, ListPosition } from '../domain/listing';
import {
  type HistoryEvent,
  type HistoryOwner,
  hasLiveLease,
  historyKey,
  type Lease,
  type MachineRecord,
  type MachineSummary,
  type ScheduledMessage,
  unwrittenEvents,
} from '../domain/machine';
import { createdKey, dueIndexKey, indexKeys, shardOf } from '../domain/statusIndex';
import type { InvocationResult } from '../domain/step';
import { writeUnits } from '../domain/storable';
import { sameWrite, type WriteIdentity } from '../domain/writeIdentity';
import { toRecordItem } from '../handlers/adapters/dynamodb/recordMapper';
import type { CountMetric, StepMetrics, TimingMetric } from '../handlers/application/metrics';
import type {
  CommitGuard,
  InvokeOptions,
  MachineStore,
  StateInvoker,
  StatusIndexPage,
  StepQueue,
} from '../handlers/application/ports';

type Hook = () => void | Promise<void>;

/** Where the adapter keeps a step's lease: the history item at (history key, seq). */
const leaseKey = (key: string, seq: number) => `${key}#${seq}`;
const stepKey = (record: MachineRecord) => leaseKey(historyKey(record), record.seq);

/**
 * The MachineStore port in memory, with DynamoDB's conditional-write semantics as the adapter
 * implements them (docs/design.md#the-record). `before[method]` runs first on each call, so a
 * test can throw there (a failing request) or change records (a concurrent writer).
 */
export class InMemoryMachineStore implements MachineStore {
  readonly records = new Map<string, MachineRecord>();
  /** History events per history key (domain historyKey), by seq. */
  readonly events = new Map<string, Map<number, HistoryEvent>>();
  /** Leases by step (history key and `seq`), as the adapter keeps them on history items. */
  readonly leases = new Map<string, Lease>();
  readonly calls: string[] = [];
  before: Partial<Record<keyof MachineStore, Hook>> = {};

  /** Few shards by default, so a handful of machines already spans several. */
  constructor(readonly statusShards = 4) {}

  /**
   * Stores `record` as it is; a lease on it means someone holds its step, so it is kept where
   * the adapter keeps it (only a removal mark keeps a copy in the record).
   */
  put(record: MachineRecord): MachineRecord {
    const { lease, ...rest } = record;
    const held = lease && !record.removing;
    if (held) this.leases.set(stepKey(record), { ...lease });
    this.records.set(record.id, this.clone(held ? rest : record));
    return record;
  }

  /**
   * How records and events are copied in and out, so no caller shares the stored ones. The test
   * kit copies less (testing/index.ts): the service's rules never change a record in place.
   */
  protected clone<T>(value: T): T {
    return structuredClone(value);
  }

  private async enter(method: keyof MachineStore) {
    this.calls.push(method);
    await this.before[method]?.();
  }

  private copy(id: string): MachineRecord | undefined {
    const record = this.records.get(id);
    return record && this.clone(record);
  }

  /** The lease on a record's current step, kept apart from the record as the adapter keeps it. */
  private leaseOf(record: MachineRecord): Lease | undefined {
    return this.leases.get(stepKey(record));
  }

  async getWithLease(id: string) {
    await this.enter('getWithLease');
    const record = this.copy(id);
    if (!record) return undefined;
    const lease = this.leaseOf(record) ?? record.lease;
    return lease ? { ...record, lease: { ...lease } } : record;
  }

  async getRecordOnly(id: string) {
    await this.enter('getRecordOnly');
    return this.copy(id);
  }

  async create(record: MachineRecord) {
    await this.enter('create');
    if (this.records.has(record.id)) return false;
    this.put(record);
    return true;
  }

  async claim(record: MachineRecord, lease: Lease, now: number) {
    await this.enter('claim');
    const held = this.leaseOf(record);
    if ((held && held.until > now) || hasLiveLease(record, now)) return false;
    this.addEvents(record);
    this.leases.set(stepKey(record), { ...lease });
    return true;
  }

  async releaseClaim(record: MachineRecord, token: string) {
    await this.enter('releaseClaim');
    // Ended, not removed, as the adapter does: an ended lease on the item keeps the record's ended.
    const held = this.leaseOf(record);
    if (held?.token !== token && (held || record.lease?.token !== token)) return;
    if (!held) this.addEvents(record);
    this.leases.set(stepKey(record), { token, until: 0 });
  }

  /** Stores `next` exactly as the adapter puts it: a chain's lease stays in the record. */
  async commit(next: MachineRecord, guard: CommitGuard) {
    await this.enter('commit');
    const record = this.records.get(next.id);
    const holds = !record?.removing && sameWrite(record, { seq: guard.seq, createdAt: next.createdAt });
    if (holds) this.records.set(next.id, this.clone(next));
    return holds;
  }

  async markRemoving(record: MachineRecord, now: number) {
    await this.enter('markRemoving');
    const stored = this.records.get(record.id);
    const held = stored?.createdAt === record.createdAt && !stored.removing && hasLiveLease(stored, now);
    if (held) stored.removing = true;
    return held;
  }

  async writeRecordEvents(record: MachineRecord) {
    await this.enter('writeRecordEvents');
    this.addEvents(record);
  }

  /** As the adapter counts them: the item as stored, index keys included. */
  writeUnits(record: MachineRecord): number {
    return writeUnits({ ...toRecordItem(record), ...indexKeys(record, this.statusShards), ...dueIndexKey(record) });
  }

  private addEvents(record: MachineRecord) {
    const key = historyKey(record);
    const events = this.events.get(key) ?? new Map<number, HistoryEvent>();
    for (const event of unwrittenEvents(record)) events.set(event.seq, this.clone(event));
    this.events.set(key, events);
  }

  async deleteRecord(read: Pick<MachineRecord, 'id'> & WriteIdentity) {
    await this.enter('deleteRecord');
    if (!sameWrite(this.records.get(read.id), read)) return false;
    this.records.delete(read.id);
    return true;
  }

  async purgeHistory(key: string, maxItems: number) {
    await this.enter('purgeHistory');
    const events = this.events.get(key);
    if (!events) return false;
    for (const seq of [...events.keys()].sort((a, b) => a - b).slice(0, maxItems)) {
      events.delete(seq);
      // The adapter keeps a step's lease on its history item, so purging it drops the lease too.
      this.leases.delete(leaseKey(key, seq));
    }
    if (events.size === 0) this.events.delete(key);
    return events.size > 0;
  }

  async history(owner: HistoryOwner, { after, limit }: { after?: number; limit: number }) {
    await this.enter('history');
    const all = [...(this.events.get(historyKey(owner))?.values() ?? [])]
      .filter((event) => after === undefined || event.seq > after)
      .sort((a, b) => a.seq - b.seq);
    return { events: all.slice(0, limit), more: all.length > limit };
  }

  /** Every history event written for `owner`, oldest first. */
  historyOf(owner: HistoryOwner): HistoryEvent[] {
    return [...(this.events.get(historyKey(owner))?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  /** The adapter's index query: the machines of one status in one shard, below `after`, newest first. */
  async pageByShard({ status, shard }: IndexShard, limit: number, after?: ListPosition): Promise<StatusIndexPage> {
    await this.enter('pageByShard');
    const keys = [...this.records.values()]
      .filter((record) => record.status === status && shardOf(record.id, this.statusShards) === shard)
      .map(({ id, createdAt }) => ({ id, status, createdAt }))
      .filter((key) => after === undefined || createdKey(key) < createdKey(after))
      .sort((a, b) => (createdKey(a) < createdKey(b) ? 1 : -1));
    return { keys: keys.slice(0, limit), more: keys.length > limit };
  }

  /** The adapter's due index query: RUNNING machines of a shard due in bucket `upTo` or earlier. */
  async dueByShard(shard: number, upTo: number, limit: number): Promise<string[]> {
    await this.enter('dueByShard');
    return [...this.records.values()]
      .filter((r) => shardOf(r.id, this.statusShards) === shard && (dueIndexKey(r).dueBucket ?? Infinity) <= upTo)
      .map((r) => r.id)
      .slice(0, limit);
  }

  async summaries(ids: string[]): Promise<MachineSummary[]> {
    await this.enter('summaries');
    return ids.flatMap((id) => {
      const record = this.records.get(id);
      if (!record) return [];
      const { name, state, status, version, createdAt, updatedAt, expiresAt } = record;
      return [{ id, name, state, status, version, createdAt, updatedAt, expiresAt }];
    });
  }
}

/** The StepQueue port: records what was sent; `failNext` makes the next send throw. */
export class RecordingQueue implements StepQueue {
  readonly sent: ScheduledMessage[] = [];
  failNext?: Error;

  async send(message: ScheduledMessage) {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.sent.push(structuredClone(message));
  }
}

/** The StateInvoker port: answers each call with the next scripted result (the last one repeats). */
export class ScriptedInvoker implements StateInvoker {
  readonly calls: { functionName: string; input: Record<string, unknown>; options?: InvokeOptions }[] = [];
  /** Runs during each invocation, after it is recorded: a test can change the store here. */
  during?: Hook;

  constructor(private readonly results: InvocationResult[]) {}

  async invoke(functionName: string, input: unknown, options?: InvokeOptions) {
    this.calls.push({ functionName, input: input as Record<string, unknown>, ...(options ? { options } : {}) });
    await this.during?.();
    const result = this.results.length > 1 ? this.results.shift() : this.results[0];
    if (!result) throw new Error('ScriptedInvoker: no result scripted');
    return result;
  }
}

/** The metrics port in memory: every count and timing, in order. */
export class RecordingMetrics implements StepMetrics {
  readonly counts: CountMetric[] = [];
  readonly timings: [TimingMetric, number][] = [];
  count(metric: CountMetric, value = 1): void {
    for (let i = 0; i < value; i++) this.counts.push(metric);
  }
  timing(metric: TimingMetric, milliseconds: number): void {
    this.timings.push([metric, milliseconds]);
  }
}
