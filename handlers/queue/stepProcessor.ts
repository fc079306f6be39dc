import { type FunctionScope, resolveFunction } from '../../domain/functionRef';
import { type Lease, type MachineRecord, type StepMessage, stepMessageSchema } from '../../domain/machine';
import { type Commit, decide, type InvocationResult, type StepContext, step } from '../../domain/step';
import type { MachineStore } from '../aws/dynamodb';
import type { StateInvoker } from '../aws/lambda';
import type { StepQueue } from '../aws/sqs';

/**
 * Places where the fault suite can make the processor "crash" (throw). Off unless a test passes
 * them to createStepProcessor; the deployed handler never does.
 */
export interface FaultPoints {
  afterSend?: (message: StepMessage) => void;
  afterCommit?: (message: StepMessage) => void;
}

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
}

const EARLY_RETRY_MS = [10, 30, 60];

/** What became of one message; logged, and asserted on by tests. */
export type StepOutcome =
  | 'dropped:missing'
  | 'dropped:stale'
  | 'deleted'
  | 'deferred'
  | 'waiting'
  | 'lost-lease-race'
  | 'committed'
  | 'commit-refused';

export function parseStepMessage(body: string): StepMessage | undefined {
  try {
    const parsed = stepMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The transition algorithm of SPEC §4: read, decide, lease, invoke, send the next message, then
 * commit conditioned on the step and the lease. Each step is committed at most once, and a step
 * whose commit did not happen is redone from a message, so each step is committed exactly once.
 */
export function createStepProcessor(deps: StepProcessorDeps) {
  const { store, queue, invoker, faults } = deps;
  const clock = (): StepContext => ({ now: deps.now(), maxQueueDelaySeconds: deps.maxQueueDelaySeconds });

  const newLease = (): Lease => ({ token: deps.newToken(), until: deps.now() + deps.leaseSeconds * 1000 });

  return async function processStep(message: StepMessage): Promise<StepOutcome> {
    const fast = newLease();
    const leased = await store.leaseStep(message, fast, deps.now());
    if (leased) return runLeased(leased, fast, message);

    let record = await store.get(message.id);
    let decision = decide(record, message, clock());
    // A message that overtook its own commit usually finds it landed a few milliseconds later:
    // look again briefly before putting it back on the queue for a whole second.
    for (const pause of EARLY_RETRY_MS) {
      if (decision.action !== 'defer' || decision.reason !== 'early') break;
      await new Promise((resolve) => setTimeout(resolve, pause));
      record = await store.get(message.id);
      decision = decide(record, message, clock());
    }
    switch (decision.action) {
      case 'drop':
        return `dropped:${decision.reason}`;
      case 'delete':
        await store.deleteMachine(message.id);
        return 'deleted';
      case 'defer':
      case 'wait':
        await queue.send({ message, delaySeconds: decision.delaySeconds });
        return decision.action === 'defer' ? 'deferred' : 'waiting';
      case 'run':
        return run(record as MachineRecord, message);
    }
  };

  async function run(record: MachineRecord, message: StepMessage): Promise<StepOutcome> {
    const lease = newLease();
    if (!(await store.takeLease(record, lease, deps.now()))) return 'lost-lease-race';
    return runLeased(record, lease, message);
  }

  async function runLeased(record: MachineRecord, lease: Lease, message: StepMessage): Promise<StepOutcome> {
    let result: Commit;
    try {
      // The previous commit's event is written before this step's commit replaces it in the record.
      const [outcome] = await Promise.all([invokeHandler(record), store.putLatestEvent(record)]);
      result = step({ ...record, lease }, outcome, clock());
      if (result.send) await queue.send(result.send);
    } catch (error) {
      // A processing error (not a handler's: those are outcomes) is reported for the message, so
      // SQS retries it and, if it keeps failing, dead-letters it; our lease must not hold it back.
      await store.releaseLease(record.id, lease.token).catch(() => undefined);
      throw error;
    }
    if (result.send) faults?.afterSend?.(message);
    const committed = await store.commit(result.record, {
      version: record.version,
      attempt: record.attempt,
      token: lease.token,
      now: deps.now(),
    });
    if (!committed) return afterRefusedCommit(message);
    faults?.afterCommit?.(message);
    return 'committed';
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
    const { id, state, object, config, version, attempt } = record;
    return invoker.invoke(functionName, { id, state, object, config, version, attempt });
  }

  /**
   * Our commit was refused: the machine is being removed (delete it now: we were the step that
   * had to end), or our lease ran out. If nobody else moved the step on, it has to be redone;
   * the message we already sent for the next step is stale and will be dropped.
   */
  async function afterRefusedCommit(message: StepMessage): Promise<StepOutcome> {
    const current = await store.get(message.id);
    if (current?.removing) {
      await store.deleteMachine(message.id);
      return 'deleted';
    }
    if (current && current.version === message.version && current.attempt === message.attempt) {
      await queue.send({ message, delaySeconds: 0 });
    }
    return 'commit-refused';
  }
}
