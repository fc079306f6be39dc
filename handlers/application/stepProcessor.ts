import type { z } from 'zod';
import { type FunctionScope, resolveFunction } from '../../domain/functionRef';
import { DEFER_SECONDS, THROTTLE_RETRY_SECONDS } from '../../domain/limits';
import {
  compareSteps,
  type Lease,
  type MachineRecord,
  type PurgeMessage,
  purgeMessageSchema,
  type StepMessage,
  stepMessageSchema,
} from '../../domain/machine';
import {
  type Decision,
  decide,
  handlerInput,
  type InvocationResult,
  type StepContext,
  stateTimeoutSeconds,
  step,
} from '../../domain/step';
import { type CommitExecutor, createCommitExecutor, type FaultPoints } from './commitExecutor';
import type { MessageDisposition } from './disposition';
import {
  dueTime,
  NO_METRICS,
  recordCommit,
  type StepLogFields,
  type StepMetrics,
  stepDebugFields,
  stepLogFields,
} from './metrics';
import type { MachineStore, StateInvoker, StepQueue } from './ports';
import { removeMachine } from './removeMachine';

export interface StepProcessorDeps {
  store: MachineStore;
  queue: StepQueue;
  invoker: StateInvoker;
  scope: FunctionScope;
  leaseSeconds: number;
  maxQueueDelaySeconds: number;
  now: () => number;
  newToken: () => string;
  faults?: FaultPoints;
  /** Counters and timings of each step (application/metrics.ts); none without it. */
  metrics?: StepMetrics;
  /**
   * Called once per step message with what to log at INFO (never the machine's object), and
   * `debug`: the object's size and keys, for DEBUG only.
   */
  logStep?: (fields: StepLogFields, debug?: ReturnType<typeof stepDebugFields>) => void;
}

/** Pauses before looking again for the commit an early message overtook. */
const EARLY_RETRY_MS = [10, 30, 60];
/**
 * Claim attempts per message. A claim can fail on a record that is free a moment later (a lease
 * just ended), or because our own claim's response was lost and the SDK's retry found our lease.
 */
const CLAIM_ROUNDS = 2;

export type { MessageDisposition } from './disposition';

export function parseStepMessage(body: string): StepMessage | undefined {
  return parseWith(stepMessageSchema, body);
}

/** A request to go on purging a deleted machine's history (application/removeMachine.ts). */
export function parsePurgeMessage(body: string): PurgeMessage | undefined {
  return parseWith(purgeMessageSchema, body);
}

function parseWith<T>(schema: z.ZodType<T>, body: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The transition processor's work for one message (docs/design.md#the-step-algorithm): read
 * and decide what the message is, claim the step it may run; run the state's function; hand the
 * result to the commit executor. A step whose commit did not happen is redone from a message.
 */
export function createStepProcessor(deps: StepProcessorDeps) {
  const { store, queue, invoker } = deps;
  const leaseMs = deps.leaseSeconds * 1000;
  const executor: CommitExecutor = createCommitExecutor({ store, queue, now: deps.now, faults: deps.faults });
  const context = (): StepContext => ({ now: deps.now(), maxQueueDelaySeconds: deps.maxQueueDelaySeconds });
  const newLease = (): Lease => ({ token: deps.newToken(), until: deps.now() + leaseMs });
  const metrics = deps.metrics ?? NO_METRICS;

  /** The record a step message was last seen with (committed, claimed or read), for its log line. */
  interface Seen {
    record?: MachineRecord;
  }

  async function processStep(message: StepMessage): Promise<MessageDisposition> {
    const seen: Seen = {};
    const disposition = await processMessage(message, seen);
    if (disposition === 'throttled') metrics.count('Throttles');
    deps.logStep?.(
      stepLogFields(message, disposition, seen.record),
      seen.record ? stepDebugFields(seen.record.object) : undefined,
    );
    return disposition;
  }

  async function processMessage(message: StepMessage, seen: Seen): Promise<MessageDisposition> {
    // The common case: one read of the record alone, whose step is due and free, then the
    // claim, which fails if someone holds the step after all, and the read that confirms it.
    let record = await store.getRecord(message.id);
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      if (record && decide(record, message, context()).action === 'run') {
        const lease = newLease();
        if (await claimCurrent(record, lease)) return run(record, lease, message, seen);
      }
      // Anything but a free step, or a claim lost: decide on the whole record, lease included.
      const { decision, record: current } = await decideAfterEarlyRetries(message);
      seen.record = current;
      if (decision.action !== 'run') return carryOut(decision, current, message);
      record = current;
    }
    // Still racing: never acknowledge a step nobody may hold; look again in a second.
    await queue.send({ message, delaySeconds: DEFER_SECONDS });
    return 'deferred';
  }

  /**
   * Claims the step at the record's `seq`, then reads the record again: the version claimed may
   * have been committed past or deleted between the first read and the claim (the claim is on
   * its history item, not on the record), and no handler may start on a version that is gone.
   */
  async function claimCurrent(record: MachineRecord, lease: Lease): Promise<boolean> {
    if (!(await store.claim(record, lease, deps.now()))) return false;
    if ((await store.getRecord(record.id))?.seq === record.seq) return true;
    await store.releaseClaim(record, lease.token);
    return false;
  }

  /**
   * decide() on a fresh read. A message that overtook its own commit usually finds it landed a
   * few milliseconds later: look again briefly before putting it back on the queue for a second.
   */
  async function decideAfterEarlyRetries(message: StepMessage) {
    let record = await store.get(message.id);
    let decision = decide(record, message, context());
    for (const pause of EARLY_RETRY_MS) {
      if (decision.action !== 'defer' || decision.reason !== 'early') break;
      await new Promise((resolve) => setTimeout(resolve, pause));
      record = await store.get(message.id);
      decision = decide(record, message, context());
    }
    return { decision, record };
  }

  async function carryOut(
    decision: Exclude<Decision, { action: 'run' }>,
    record: MachineRecord | undefined,
    message: StepMessage,
  ) {
    if (decision.action === 'drop') return `dropped:${decision.reason}` as const;
    if (decision.action === 'delete') {
      await removeMachine(deps, record as MachineRecord);
      return 'deleted';
    }
    await queue.send({ message, delaySeconds: decision.delaySeconds });
    return decision.action === 'defer' ? 'deferred' : 'waiting';
  }

  async function run(
    record: MachineRecord,
    lease: Lease,
    message: StepMessage,
    seen: Seen,
  ): Promise<MessageDisposition> {
    seen.record = record;
    const outcome = await executor.commitClaimed({ record, lease }, async () => {
      const result = await invokeHandler(record);
      return result.kind === 'throttled' ? undefined : step({ ...record, lease }, result, context());
    });
    if (outcome.kind === 'committed') {
      seen.record = outcome.record;
      recordCommit(metrics, outcome.record, dueTime(record), deps.now());
    }
    if (outcome.kind === 'released') {
      await queue.send({ message, delaySeconds: THROTTLE_RETRY_SECONDS });
      return 'throttled';
    }
    if (outcome.kind !== 'refused') return outcome.kind;
    // Our lease ran out before the commit. If nobody moved the step on, it has to be redone; the
    // message already sent for the next step is stale and will be dropped.
    const { current } = outcome;
    if (current && compareSteps(message, current) === 0) {
      await queue.send({ message, delaySeconds: 0 });
    }
    return 'commit-refused';
  }

  function invokeHandler(record: MachineRecord): Promise<InvocationResult> {
    const reference = record.config[record.state] ?? '';
    const functionName = resolveFunction(reference, deps.scope);
    if (!functionName) {
      return Promise.resolve({
        kind: 'failed',
        message: `function '${reference}' of state '${record.state}' is not on this service's allow-list`,
        retryable: false,
      });
    }
    return timedInvoke(functionName, record);
  }

  async function timedInvoke(functionName: string, record: MachineRecord): Promise<InvocationResult> {
    const timeout = stateTimeoutSeconds(record);
    const started = deps.now();
    const result =
      timeout === undefined
        ? await invoker.invoke(functionName, handlerInput(record))
        : await invoker.invoke(functionName, handlerInput(record), { timeoutMs: timeout * 1000 });
    metrics.timing('HandlerDuration', deps.now() - started);
    if (result.kind === 'failed') metrics.count('HandlerErrors');
    return result;
  }

  return processStep;
}
