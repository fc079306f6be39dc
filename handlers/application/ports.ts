import type { IndexPosition, IndexShard, ListPosition } from '../../domain/listing';
import type {
  HistoryEvent,
  HistoryOwner,
  Lease,
  MachineRecord,
  MachineStatus,
  MachineSummary,
  ScheduledMessage,
} from '../../domain/machine';
import type { InvocationResult } from '../../domain/step';
import type { StepMetrics } from './metrics';

/** A step of a machine: the record must be at exactly this version, attempt, wake count and status. */
export interface StepKey {
  id: string;
  version: number;
  attempt: number;
  /** The step attempt's wake count; absent = 0. */
  woken?: number;
  status: MachineStatus;
  /**
   * Claim the step while it still waits for its `wakeAt` (the wake API) instead of when it is
   * due (everyone else).
   */
  waiting?: boolean;
}

/**
 * What a commit requires of the stored record (docs/design.md#the-step-algorithm):
 * - `claim`: still at the claimed step, and our lease is still live and not given up;
 * - `unchanged`: nothing committed since the record was read (`seq`), for writers without a lease.
 * Neither replaces a machine that is being removed.
 */
export type CommitGuard =
  | { kind: 'claim'; version: number; attempt: number; woken?: number; token: string; now: number }
  | { kind: 'unchanged'; seq: number };

export interface StatusIndexPage {
  keys: IndexPosition[];
  /** Whether the index holds more items after `keys`. */
  more: boolean;
}

/** Where machines and their history are kept. Every write that races another is conditional. */
export interface MachineStore {
  get(id: string): Promise<MachineRecord | undefined>;
  /** False when a machine with this id already exists. */
  create(record: MachineRecord): Promise<boolean>;
  /**
   * Sets `lease` on the machine and returns the leased record, if and only if decide() would say
   * 'run' for `step` at `now`: it exists at that version, attempt, wake count and status, is not
   * being removed, has no live lease and is due. Undefined otherwise. With `step.waiting`, the
   * same but still waiting instead of due: isWaiting() (the wake API's claim).
   */
  claimStep(step: StepKey, lease: Lease, now: number): Promise<MachineRecord | undefined>;
  /** Gives up the lease `token`, if it is still held. */
  releaseClaim(id: string, token: string): Promise<void>;
  /** Replaces the record with `next` if `guard` holds; false when it does not. */
  commit(next: MachineRecord, guard: CommitGuard): Promise<boolean>;
  /** Writes the record's `lastEvent` to the history; idempotent (keyed by its `seq`). */
  writeLatestEvent(record: MachineRecord): Promise<void>;
  /** Deletes the machine unless a handler holds a live lease on it; false otherwise or if missing. */
  deleteIfIdle(id: string, now: number): Promise<boolean>;
  /** Deletes the machine record (its history is purged apart: `purgeHistory`). */
  deleteRecord(id: string): Promise<void>;
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
  /** One page of machines with `status`, every shard merged, newest first (application/listMachines `pageByStatus`). */
  pageByStatus(status: MachineStatus, limit: number, after?: IndexPosition): Promise<StatusIndexPage>;
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

/** Adapters and settings a use case needs; built once per container by handlers/wiring.ts. */
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
