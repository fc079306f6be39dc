import type { IndexPosition, IndexShard, ListPosition } from '../../domain/listing';
import type {
  HistoryEvent,
  HistoryOwner,
  Lease,
  MachineRecord,
  MachineSummary,
  ScheduledMessage,
} from '../../domain/machine';
import type { InvocationResult } from '../../domain/step';
import type { WriteIdentity } from '../../domain/writeIdentity';
import type { StepMetrics } from './metrics';

/**
 * What a commit requires of the stored record (docs/design.md#the-step-algorithm): nothing
 * committed since it was read (`seq`), and not being removed. A claimed step's commit also needs
 * its lease to be live, which the commit executor checks before writing.
 */
export interface CommitGuard {
  seq: number;
}

export interface StatusIndexPage {
  keys: IndexPosition[];
  /** Whether the index holds more items after `keys`. */
  more: boolean;
}

/** Where machines and their history are kept. Every write that races another is conditional. */
export interface MachineStore {
  /** The record and its step's item: `lease` = who holds its current step (docs/design.md#lease). */
  getWithLease(id: string): Promise<MachineRecord | undefined>;
  /**
   * The record without looking up who holds its step (one read instead of two): its `lease` is
   * only the one a removal mark keeps. The processor's first look; its claim checks the rest.
   */
  getRecordOnly(id: string): Promise<MachineRecord | undefined>;
  /** False when a machine with this id already exists. */
  create(record: MachineRecord): Promise<boolean>;
  /**
   * Takes the record's current step (the one at its `seq`) with `lease`, if no live lease holds
   * it (neither on its history item nor, a chain's, in the record as given); in the same write,
   * the events the record holds go to the history. False when someone holds it.
   */
  claim(record: MachineRecord, lease: Lease, now: number): Promise<boolean>;
  /**
   * Gives up the lease `token` on the record's step, if it is still held: the lease a claim put on
   * its history item, or the one a chain's commit put in the record (docs/design.md#run-on).
   */
  releaseClaim(record: MachineRecord, token: string): Promise<void>;
  /** Replaces the record with `next` if `guard` holds; false when it does not. */
  commit(next: MachineRecord, guard: CommitGuard): Promise<boolean>;
  /**
   * Marks the machine `removing` in place while a live lease in the record itself holds its step
   * (a chain's, at whatever step it has reached since `record` was read: docs/design.md#delete).
   * False when none does, or it is already marked, or it is another machine of the same name.
   */
  markRemoving(record: MachineRecord, now: number): Promise<boolean>;
  /**
   * Writes the events the record holds (`unwrittenEvents`) to the history unless a claim wrote
   * them already, for a commit made without a claim. Idempotent (keyed by its `seq`); never
   * touches a lease.
   */
  writeRecordEvents(record: MachineRecord): Promise<void>;
  /** The write units a put of the record is billed, as the store keeps it (domain/storable.ts). */
  writeUnits(record: MachineRecord): number;
  /**
   * Deletes the record if it is still the write read (domain/writeIdentity.ts): nothing committed
   * since, not a machine added again under the same name. False if nothing was deleted.
   */
  deleteRecord(record: Pick<MachineRecord, 'id'> & WriteIdentity): Promise<boolean>;
  /** Deletes up to `maxItems` items of the history `key` (domain historyKey); true when more are left. */
  purgeHistory(key: string, maxItems: number): Promise<boolean>;
  /**
   * A page of the written history, oldest first, of events after `after`: the record's
   * `lastEvent` may not be written yet (domain historyPage adds it).
   */
  history(
    owner: HistoryOwner,
    page: { after?: number; limit: number },
  ): Promise<{ events: HistoryEvent[]; more: boolean }>;
  /** Shards of the status index per status (domain/statusIndex.ts). */
  readonly statusShards: number;
  /**
   * One page of one shard of the status index, newest first (createdAt, then id), of the
   * machines below `after` in that order.
   */
  pageByShard(shard: IndexShard, limit: number, after?: ListPosition): Promise<StatusIndexPage>;
  /**
   * Ids of RUNNING machines of one shard whose current step is due in bucket `upTo` or earlier
   * (the due index, domain/statusIndex.ts `dueIndexKey`), at most `limit`; eventually consistent.
   */
  dueByShard(shard: number, upTo: number, limit: number): Promise<string[]>;
  /** Summaries of the machines `ids`, in the order given; machines deleted meanwhile are left out. */
  summaries(ids: string[]): Promise<MachineSummary[]>;
}

/** The transition queue: one message per step to run. */
export interface StepQueue {
  send(message: ScheduledMessage): Promise<void>;
}

export interface InvokeOptions {
  /** The state's own timeout (`timeouts`): past it the request is aborted, a retryable failure. */
  timeoutMs?: number;
}

/** Runs a state's function and reports every way it can end as an InvocationResult (never throws). */
export interface StateInvoker {
  invoke(functionName: string, input: unknown, options?: InvokeOptions): Promise<InvocationResult>;
}

/** Adapters and settings a use case needs; built once per container by handlers/wiring/. */
export interface Ports {
  store: MachineStore;
  queue: StepQueue;
  invoker: StateInvoker;
  /** Where use cases count what happened (application/metrics.ts); nothing is counted without it. */
  metrics?: StepMetrics;
}

/** Time and ids come in from outside, so use cases can be tested with fixed ones. */
export interface Environment {
  now: () => number;
  newId: () => string;
}

/** What the API's use cases are given. */
export interface ApiDeps extends Ports, Environment {
  /** Longest single queue delay (SQS's 900 s cap, shorter in tests). */
  maxQueueDelaySeconds: number;
}
