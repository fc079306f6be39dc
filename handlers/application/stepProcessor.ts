import type { z } from 'zod';
import { mintToken } from '../../domain/callbackToken';
import { type FunctionScope, resolveFunction } from '../../domain/functionRef';
import { DEFER_SECONDS, invokeTimeoutMs, THROTTLE_RETRY_SECONDS } from '../../domain/limits';
import {
  compareSteps,
  dueAt,
  type Lease,
  type MachineRecord,
  type PurgeMessage,
  purgeMessageSchema,
  type StepMessage,
  stepMessageSchema,
  stepOf,
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
import {
  type ClaimedStep,
  type CommitExecutor,
  createCommitExecutor,
  type FaultPoints,
  type RunOn,
} from './commitExecutor';
import type { MessageDisposition } from './disposition';
import { expireWaitStep } from './expireWait';
import {
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

/** The invocation's time left, in milliseconds (Lambda's `context.getRemainingTimeInMillis`). */
export interface RunOnBudget {
  remainingMs(): number;
}

/** Time a step run on to must have left after its longest invoke: to send and commit. */
const RUN_ON_SPARE_MS = 2_000;
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

  /**
   * The record a step message was last seen with (committed, claimed or read), for its log line,
   * and the step it ran last when it ran on past the message's own.
   */
  interface Seen {
    record?: MachineRecord;
    step?: StepMessage;
  }

  /**
   * Processes one step message. With `budget` (the invocation's time left), a step whose next
   * step is due at once runs on to it in this invocation, the message carrying it, while there
   * is time for that step's whole invoke (docs/design.md#run-on).
   */
  async function processStep(message: StepMessage, budget?: RunOnBudget): Promise<MessageDisposition> {
    const seen: Seen = {};
    const disposition = await processMessage(message, seen, budget);
    if (disposition === 'throttled') metrics.count('Throttles');
    logLine(seen.step ?? message, disposition, seen.record);
    return disposition;
  }

  function logLine(step: StepMessage, disposition: MessageDisposition, record: MachineRecord | undefined) {
    deps.logStep?.(stepLogFields(step, disposition, record), record ? stepDebugFields(record.object) : undefined);
  }

  async function processMessage(message: StepMessage, seen: Seen, budget?: RunOnBudget): Promise<MessageDisposition> {
    // The common case: one read of the record alone, whose step is due and free, then the
    // executor's claim, which fails if someone holds the step after all or the record moved on.
    let record = await store.getRecordOnly(message.id);
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      if (record && decide(record, message, context()).action === 'run') {
        const lease = newLease();
        if (await executor.claim(record, lease)) return run({ record, lease }, message, seen, budget);
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
   * decide() on a fresh read. A message that overtook its own commit usually finds it landed a
   * few milliseconds later: look again briefly before putting it back on the queue for a second.
   */
  async function decideAfterEarlyRetries(message: StepMessage) {
    let record = await store.getWithLease(message.id);
    let decision = decide(record, message, context());
    for (const pause of EARLY_RETRY_MS) {
      if (decision.action !== 'defer' || decision.reason !== 'early') break;
      await new Promise((resolve) => setTimeout(resolve, pause));
      record = await store.getWithLease(message.id);
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
    if (decision.action === 'expire') {
      return expireWaitStep({ ...deps, executor, newLease, context }, record as MachineRecord, message);
    }
    if (decision.action === 'delete') {
      await removeMachine(deps, record as MachineRecord);
      return 'deleted';
    }
    await queue.send({ message, delaySeconds: decision.delaySeconds });
    return decision.action === 'defer' ? 'deferred' : 'waiting';
  }

  async function run(
    first: ClaimedStep,
    message: StepMessage,
    seen: Seen,
    budget: RunOnBudget | undefined,
  ): Promise<MessageDisposition> {
    const { id: _id, ...carrier } = message;
    // The next step due at once is run here while the invocation has time for its whole invoke.
    const runOn: RunOn | undefined = budget && {
      carrier,
      leaseFor: (next) => (budget.remainingMs() >= longestInvokeMs(next) + RUN_ON_SPARE_MS ? newLease() : undefined),
    };
    let claimed: ClaimedStep | undefined = first;
    for (;;) {
      const { record, lease } = claimed;
      const running = stepOf(record);
      seen.record = record;
      seen.step = running;
      const outcome = await executor.commitClaimed(
        claimed,
        async () => {
          const result = await invokeHandler(record);
          return result.kind === 'throttled' ? undefined : step({ ...record, lease }, result, context());
        },
        runOn,
      );
      if (outcome.kind === 'committed') {
        seen.record = outcome.record;
        recordCommit(metrics, outcome.record, dueAt(record), deps.now());
        claimed = outcome.runOn;
        if (!claimed) return 'committed';
        logLine(running, 'committed', outcome.record);
        continue;
      }
      if (outcome.kind === 'released') {
        await queue.send({ message: running, delaySeconds: THROTTLE_RETRY_SECONDS });
        return 'throttled';
      }
      if (outcome.kind !== 'refused') return outcome.kind;
      // Our lease ran out before the commit. If nobody moved the step on, it has to be redone; the
      // message already sent for the next step is stale and will be dropped.
      const { current } = outcome;
      if (current && compareSteps(running, current) === 0) {
        await queue.send({ message: stepOf(current), delaySeconds: 0 });
      }
      return 'commit-refused';
    }
  }

  /** The longest the invoke of the record's state may take: its own timeout, within the lease's share. */
  function longestInvokeMs(record: MachineRecord): number {
    const timeout = stateTimeoutSeconds(record);
    const longest = invokeTimeoutMs(deps.leaseSeconds);
    return timeout === undefined ? longest : Math.min(timeout * 1000, longest);
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
        ? await invoker.invoke(functionName, handlerInput(record, mintToken(record)))
        : await invoker.invoke(functionName, handlerInput(record, mintToken(record)), { timeoutMs: timeout * 1000 });
    metrics.timing('HandlerDuration', deps.now() - started);
    if (result.kind === 'failed') metrics.count('HandlerErrors');
    return result;
  }

  return processStep;
}
