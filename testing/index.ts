/**
 * The test kit (docs/testing.md): runs machines in process, on virtual time, through the
 * service's own rules: the API's validation and use cases, the step processor and the commit
 * executor, over the in-memory ports of testing/fakes.ts. Only the edges are the kit's: a clock
 * that jumps to the next due message, a queue that is a list of messages by due time, and an
 * invoker that calls the handlers given in process, as Lambda would (JSON in, JSON out).
 */
import type { StateHandlerInput, StateHandlerResult } from '../domain/contract';
import { type Json, parseMachineDefinition } from '../domain/definition';
import { MachineNotFoundError } from '../domain/errors';
import type { FunctionScope } from '../domain/functionRef';
import { DEFAULT_LEASE_SECONDS, invokeTimeoutMs, MAX_DELAY_SECONDS, MAX_HISTORY_PAGE_SIZE } from '../domain/limits';
import {
  type HistoryEvent,
  isFinished,
  type MachineRecord,
  type MachineView,
  type ScheduledMessage,
  type StepMessage,
  toView,
} from '../domain/machine';
import { type InvocationResult, stateTimedOut } from '../domain/step';
import { addMachine } from '../handlers/application/addMachine';
import { answerCallback } from '../handlers/application/answerCallback';
import { deleteMachine } from '../handlers/application/deleteMachine';
import type { ApiDeps, InvokeOptions, StateInvoker, StepQueue } from '../handlers/application/ports';
import { readHistory, readMachine } from '../handlers/application/readMachine';
import { redriveMachine } from '../handlers/application/redriveMachine';
import { purgeHistory } from '../handlers/application/removeMachine';
import { resumeMachine } from '../handlers/application/resumeMachine';
import { createStepProcessor } from '../handlers/application/stepProcessor';
import { wakeMachine } from '../handlers/application/wakeMachine';
import { InMemoryMachineStore } from './fakes';

export type { StateHandler, StateHandlerInput, StateHandlerResult } from '../domain/contract';
export type { HistoryEvent, MachineView } from '../domain/machine';

/**
 * State handlers by the function reference a definition's `config` names them with: a short key
 * (`chargeCard`), a full name (`<service>-<stage>-chargeCard`) or an ARN. They are the kit's
 * allow-list: a definition naming any other function is refused as the API refuses it.
 */
export type Handlers = Record<string, (input: StateHandlerInput<never>) => Promise<StateHandlerResult<unknown>>>;

/**
 * A fault injected in place of a handler's run: `throw` (it throws), `timeout` (no answer within
 * the state's timeout, or the invoke's share of the lease: that much virtual time passes),
 * `garbage` (it returns something that is not a result), `throttle` (Lambda refuses to run it:
 * tried again 2 s later, the attempt not used up), or an Error for it to throw.
 */
export type Fault = 'throw' | 'timeout' | 'garbage' | 'throttle' | Error;

/** Faults by state, then by attempt (1-based): `{ charge: { 1: 'timeout', 2: 'throw' } }`. */
export type Failures = Record<string, Record<number, Fault>>;

/** A machine as GET /machines/{id} shows it. */
export type Until = 'finished' | 'parked' | ((machine: MachineView) => boolean);

export interface EnvironmentOptions {
  /** The virtual time it starts at (default: now). */
  now?: number | string | Date;
  /** Faults to inject instead of running a handler (each state's attempt n, every time it runs). */
  failures?: Failures;
  /** Handler runs one `runUntilIdle`, `advance` or `run` may make before it rejects (a loop guard); default 10,000. */
  maxSteps?: number;
  /** The service and stage whose functions short keys name (default serverless-statemachine, local). */
  service?: string;
  stage?: string;
  /** The transition processor's lease on a step (LEASE_SECONDS; bounds `timeouts` as on the stack). */
  leaseSeconds?: number;
}

export interface MachineOptions extends EnvironmentOptions {
  /** When the run stops: `finished` (SUCCEEDED or FAILED, the default), `parked`, or a predicate. */
  until?: Until;
}

/** What `testMachine` and `run` resolve to. */
export interface TestRun {
  id: string;
  status: MachineView['status'];
  state: string;
  object: Json;
  version: number;
  /** As GET /machines/{id}/history returns them, every page. */
  history: HistoryEvent[];
  /** Virtual seconds from the machine's add to the moment `until` held. */
  elapsedSeconds: number;
  /** The whole machine as GET /machines/{id} shows it (its `error` when FAILED). */
  machine: MachineView;
}

/** The kit's own failures: a run that cannot reach `until`, or a loop past `maxSteps`. */
export class TestKitError extends Error {
  override readonly name = 'TestKitError';
}

export interface TestEnvironment {
  /** The virtual time, epoch milliseconds. */
  now(): number;
  /** POST /machines: the machine as the 201 (or the 200 of the same named definition) shows it. */
  add(definition: unknown): Promise<MachineView>;
  /** GET /machines/{id}. */
  get(id: string): Promise<MachineView>;
  /** GET /machines/{id}/history, every page. */
  history(id: string): Promise<HistoryEvent[]>;
  /** POST /machines/{id}/resume (with `token`: only that wait). */
  resume(id: string, input?: { object?: Json; state?: string; token?: string }): Promise<MachineView>;
  /** POST /callbacks, /callbacks/fail, /callbacks/heartbeat: answers the wait a handler's `callbackToken` belongs to. */
  callback(token: string, answer?: { object?: Json; state?: string } | { error: string }): Promise<MachineView>;
  heartbeat(token: string): Promise<MachineView>;
  /** POST /machines/{id}/redrive. */
  redrive(id: string, input?: { object?: Json; state?: string }): Promise<MachineView>;
  /** POST /machines/{id}/wake. */
  wake(id: string): Promise<MachineView>;
  /** DELETE /machines/{id}: `deleted`, or `removing` while its handler runs. */
  delete(id: string): Promise<'deleted' | 'removing'>;
  /** Lets `seconds` of virtual time pass, running every step that falls due meanwhile. */
  advance(seconds: number): Promise<void>;
  /** Runs every step there is, jumping the clock to each, until nothing is left to run. */
  runUntilIdle(): Promise<void>;
  /** Runs steps (of any machine, in due order) until machine `id` meets `until`. */
  run(id: string, until?: Until): Promise<TestRun>;
  /** Handler runs so far. */
  steps(): number;
}

const DEFAULT_MAX_STEPS = 10_000;
/** A result no handler may return: not null, no `state`. */
const GARBAGE = { notAState: true };

/**
 * The in-memory store, copying only the top level of what it keeps: the service's rules build
 * new records rather than change them, and what the kit hands out is copied whole (`exposed`).
 */
class KitStore extends InMemoryMachineStore {
  protected override clone<T>(value: T): T {
    return { ...value };
  }
}

/** What the kit hands a test: its own copy, so a test cannot change a stored machine by reference. */
const exposed = <T>(value: T): T => structuredClone(value);

/** A queued message and the virtual time it is delivered. */
interface Pending {
  dueAt: number;
  order: number;
  message: ScheduledMessage['message'];
}

/** SQS on virtual time: messages by due time, then by send order; no cap on a delay. */
class VirtualQueue implements StepQueue {
  private readonly pending: Pending[] = [];
  private sent = 0;

  constructor(private readonly clock: { now: number }) {}

  async send({ message, delaySeconds }: ScheduledMessage) {
    const entry = {
      dueAt: this.clock.now + delaySeconds * 1000,
      order: this.sent++,
      message: { ...message },
    };
    // Kept sorted: a binary search for the first entry due later (or sent later at the same time).
    let low = 0;
    let high = this.pending.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.pending[mid] as Pending).dueAt <= entry.dueAt) low = mid + 1;
      else high = mid;
    }
    this.pending.splice(low, 0, entry);
  }

  next(dueBy = Number.POSITIVE_INFINITY): Pending | undefined {
    const first = this.pending[0];
    return first && first.dueAt <= dueBy ? this.pending.shift() : undefined;
  }
}

/** The names a reference resolves to under the kit's scope, as resolveFunction would. */
function scopeOf(handlers: Handlers, servicePrefix: string) {
  const byName = new Map<string, Handlers[string]>();
  const stateFunctions: string[] = [];
  const extraFunctionArns: string[] = [];
  for (const [reference, handler] of Object.entries(handlers)) {
    const name = functionName(reference, servicePrefix);
    if (name.startsWith('arn:')) extraFunctionArns.push(name);
    else stateFunctions.push(name);
    byName.set(name, handler);
  }
  const scope: FunctionScope = { servicePrefix, stateFunctions, extraFunctionArns };
  return { scope, byName };
}

/** A reference as the invoker is called with it: this service's as its full name, another's as its ARN. */
function functionName(reference: string, servicePrefix: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]+:\d{12}:function:([^:]+)(?::.*)?$/.exec(reference);
  if (arn) return (arn[1] as string).startsWith(servicePrefix) ? (arn[1] as string) : reference;
  return reference.startsWith(servicePrefix) ? reference : `${servicePrefix}${reference}`;
}

/** Lambda's error for a thrown value, as the adapter reads it back (handlers/adapters/lambda). */
function thrown(error: unknown): InvocationResult {
  const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
  return { kind: 'failed', message: name && name !== 'Error' ? `${name}: ${message}` : message, retryable: true };
}

/** Creates an environment for several machines and what clients do to them, on one virtual clock. */
export function createTestEnvironment(handlers: Handlers, options: EnvironmentOptions = {}): TestEnvironment {
  const clock = { now: options.now === undefined ? Date.now() : new Date(options.now).getTime() };
  if (Number.isNaN(clock.now)) throw new TestKitError(`options.now: '${String(options.now)}' is not a time`);
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const servicePrefix = `${options.service ?? 'serverless-statemachine'}-${options.stage ?? 'local'}-`;
  const { scope, byName } = scopeOf(handlers, servicePrefix);
  const store = new KitStore();
  const queue = new VirtualQueue(clock);
  let steps = 0;
  let ids = 0;

  const invoker: StateInvoker = {
    async invoke(name: string, input: unknown, invokeOptions: InvokeOptions = {}): Promise<InvocationResult> {
      steps++;
      const handler = byName.get(functionName(name, servicePrefix));
      if (!handler) return { kind: 'failed', message: `no handler given for function '${name}'`, retryable: true };
      // As Lambda hands it over: JSON, so a handler cannot change the stored machine by reference.
      const event = JSON.parse(JSON.stringify(input)) as StateHandlerInput<never>;
      const fault = options.failures?.[event.state]?.[event.attempt];
      if (fault === 'throttle') {
        if (!throttled.has(stepKey(event))) {
          throttled.add(stepKey(event));
          return { kind: 'throttled', message: 'TooManyRequestsException: Rate Exceeded. (injected)' };
        }
      } else if (fault === 'timeout') {
        const timeoutMs = invokeOptions.timeoutMs ?? invokeTimeoutMs(leaseSeconds);
        clock.now += timeoutMs;
        return stateTimedOut(timeoutMs);
      } else if (fault === 'garbage') {
        return { kind: 'returned', payload: GARBAGE };
      } else if (fault !== undefined) {
        return thrown(fault === 'throw' ? new Error(`injected failure (attempt ${event.attempt})`) : fault);
      }
      try {
        const text = JSON.stringify(await handler(event));
        return { kind: 'returned', payload: text === undefined ? null : JSON.parse(text) };
      } catch (error) {
        return thrown(error);
      }
    },
  };
  const throttled = new Set<string>();
  const stepKey = (event: StateHandlerInput<never>) => `${event.id}/${event.version}/${event.attempt}`;

  const deps: ApiDeps = {
    store,
    queue,
    invoker,
    now: () => clock.now,
    newId: () => `machine-${++ids}`,
    maxQueueDelaySeconds: MAX_DELAY_SECONDS,
  };
  let tokens = 0;
  const processStep = createStepProcessor({
    store,
    queue,
    invoker,
    scope,
    leaseSeconds,
    // A virtual queue has no 15-minute cap: a year's delay is one message, not 35,040.
    maxQueueDelaySeconds: MAX_DELAY_SECONDS,
    now: () => clock.now,
    newToken: () => `lease-${++tokens}`,
  });

  /** Delivers the next message due by `dueBy`; false when there is none. */
  async function deliver(dueBy?: number, budget = { start: steps }): Promise<boolean> {
    const next = queue.next(dueBy);
    if (!next) return false;
    if (steps - budget.start >= maxSteps) {
      throw new TestKitError(
        `maxSteps (${maxSteps}) reached: a machine keeps running (a loop?); raise maxSteps if not`,
      );
    }
    clock.now = Math.max(clock.now, next.dueAt);
    // The fake store's call log is for the unit tests; here it would only grow.
    store.calls.length = 0;
    const message = next.message;
    if ('purgeHistory' in message) await purgeHistory(deps, message.purgeHistory);
    else await processStep(message as StepMessage);
    return true;
  }

  const shown = (record: MachineRecord) => exposed(toView(record, clock.now));
  const view = async (id: string) => shown(await readMachine(store, id, clock.now));

  async function history(id: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await readHistory(store, id, clock.now, { after, limit: MAX_HISTORY_PAGE_SIZE });
      events.push(...page.events);
      if (page.next === undefined) return exposed(events);
      after = page.next;
    }
  }

  const holds = (until: Until, record: MachineRecord) =>
    until === 'finished'
      ? isFinished(record.status)
      : until === 'parked'
        ? record.status === 'PARKED'
        : until(shown(record));

  return {
    now: () => clock.now,
    async add(definition) {
      const parsed = parseMachineDefinition(definition, scope, { leaseSeconds });
      return shown((await addMachine(deps, parsed)).record);
    },
    get: view,
    history,
    resume: async (id, input = {}) => shown(await resumeMachine(deps, id, input)),
    callback: async (token, answer = {}) =>
      shown(
        await answerCallback(
          deps,
          token,
          'error' in answer ? { kind: 'fail', error: answer.error } : { kind: 'resume', ...answer },
        ),
      ),
    heartbeat: async (token) => shown(await answerCallback(deps, token, { kind: 'heartbeat' })),
    redrive: async (id, input = {}) => shown(await redriveMachine(deps, id, input)),
    wake: async (id) => shown(await wakeMachine(deps, id)),
    delete: (id) => deleteMachine(deps, id),
    async advance(seconds) {
      const until = clock.now + seconds * 1000;
      const budget = { start: steps };
      while (await deliver(until, budget));
      clock.now = Math.max(clock.now, until);
    },
    async runUntilIdle() {
      const budget = { start: steps };
      while (await deliver(undefined, budget));
    },
    async run(id, until = 'finished') {
      const start = Date.parse((await view(id)).createdAt);
      const budget = { start: steps };
      for (;;) {
        // The stored record, uncopied, for a look at its status; copied only for what is handed out.
        const stored = store.records.get(id);
        const record = stored && (typeof until === 'function' ? await store.getWithLease(id) : stored);
        if (!record) throw new MachineNotFoundError(id);
        if (holds(until, record)) {
          const machine = shown(record);
          return {
            id,
            status: machine.status,
            state: machine.state,
            object: machine.object,
            version: machine.version,
            history: await history(id),
            elapsedSeconds: (clock.now - start) / 1000,
            machine,
          };
        }
        if (!(await deliver(undefined, budget))) {
          const { status, state } = record;
          const wanted = typeof until === 'function' ? 'the condition given' : `until '${until}'`;
          const hint = status === 'PARKED' ? ` (resume it, or run with until: 'parked')` : '';
          throw new TestKitError(
            `machine '${id}' is ${status} at state '${state}' and has nothing left to run: it cannot meet ${wanted}${hint}`,
          );
        }
      }
    },
    steps: () => steps,
  };
}

/**
 * Runs one machine definition (the POST /machines body, validated as the API validates it) to
 * `options.until`, on virtual time: a year's delay passes in microseconds of real time.
 */
export async function testMachine(
  definition: unknown,
  handlers: Handlers,
  options: MachineOptions = {},
): Promise<TestRun> {
  const { until, ...environment } = options;
  const env = createTestEnvironment(handlers, environment);
  const { id } = await env.add(definition);
  return env.run(id, until);
}
