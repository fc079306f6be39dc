import { expect } from 'chai';
import { mintToken, readToken } from '../../../domain/callbackToken';
import { CallbackNotFoundError, ConflictError, ValidationError } from '../../../domain/errors';
import type { MachineRecord } from '../../../domain/machine';
import type { InvocationResult } from '../../../domain/step';
import { addMachine } from '../../../handlers/application/addMachine';
import { answerCallback } from '../../../handlers/application/answerCallback';
import { deleteMachine } from '../../../handlers/application/deleteMachine';
import { redriveMachine } from '../../../handlers/application/redriveMachine';
import { resumeMachine } from '../../../handlers/application/resumeMachine';
import { definition, T0 } from '../../helpers/factories';
import { fakeApiDeps, fakeStepProcessor, RecordingMetrics, ScriptedInvoker } from '../../helpers/fakes';
import { fullHistory } from '../../helpers/history';
import { seeded, yieldSometimes } from '../../helpers/seeded';

async function rejection(promise: Promise<unknown>): Promise<Error & { details?: { reason?: string } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const returned = (payload: unknown): InvocationResult => ({ kind: 'returned', payload });
const park = (extra: Record<string, unknown> = {}) => returned({ state: 'TASK-1', delay: -1, ...extra });

/** A machine added and run over fakes on `clock`, its handlers answering `results` in turn. */
async function rig(results: InvocationResult[], overrides: Parameters<typeof definition>[0] = {}) {
  const clock = { now: T0 };
  const invoker = new ScriptedInvoker(results);
  const { deps, store, queue } = fakeApiDeps({ now: () => clock.now, invoker });
  const processor = fakeStepProcessor({ store, queue, invoker }, { clock, leaseSeconds: 60 });
  const { record } = await addMachine(deps, definition(overrides));
  /** Processes every message sent since the last call whose delay has passed, advancing the clock to it. */
  let next = 0;
  async function drain(until = Number.POSITIVE_INFINITY) {
    const dispositions: string[] = [];
    while (next < queue.sent.length) {
      if (dispositions.length > 50) throw new Error(`runaway: ${dispositions.join(', ')}`);
      const sent = queue.sent[next];
      if (!sent || !('version' in sent.message)) break;
      const due = clock.now + sent.delaySeconds * 1000;
      if (due > until) break;
      next++;
      clock.now = Math.max(clock.now, due);
      dispositions.push(await processor(sent.message));
    }
    return dispositions;
  }
  const current = () => store.records.get(record.id) as MachineRecord;
  const token = (call = -1) => invoker.calls.at(call)?.input.callbackToken as string;
  const history = async () => fullHistory(current(), (await store.history(current(), { limit: 100 })).events);
  return { clock, deps, store, queue, invoker, processor, drain, current, token, history, id: record.id };
}

describe('callback tokens', () => {
  it('hands every handler a token of its step, the same each time that step is invoked', async () => {
    const { drain, invoker, token, current } = await rig([returned({ state: 'TASK-1' }), park()]);
    await drain();
    expect(invoker.calls).to.have.length(2);
    expect(token(0)).to.match(/^fsm1\./);
    expect(token(1))
      .to.match(/^fsm1\./)
      .and.not.equal(token(0));
    const parking = { ...current(), version: 1, attempt: 1 };
    expect(mintToken(parking), 'minted from the step, not at random').to.equal(token(1));
    const other = mintToken({ ...parking, callbackKey: 'another key' });
    expect(other, 'a machine added again under the same name has another key').not.to.equal(token(1));
  });

  it('resumes exactly the wait its token belongs to, once however often it is sent', async () => {
    const { deps, drain, current, token, history } = await rig([park(), returned(null)]);
    await drain();
    expect(current().status).to.equal('PARKED');
    const resumed = await answerCallback(deps, token(), { kind: 'resume', object: { approved: true } }, 'alice');
    expect(resumed).to.include({ status: 'RUNNING' });
    expect(resumed.object).to.deep.equal({ approved: true });
    for (let i = 0; i < 2; i++) {
      const error = await rejection(answerCallback(deps, token(0), { kind: 'resume' }));
      expect(error).to.be.instanceOf(ConflictError);
    }
    await drain();
    expect(current().status).to.equal('SUCCEEDED');
    const outcomes = (await history()).map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'resumed')).to.have.length(1);
    expect((await history()).find((e) => e.outcome === 'resumed')?.by).to.equal('alice');
  });

  it('answers 409 to a token of an earlier park of the same machine, and changes nothing', async () => {
    const { deps, drain, current, token } = await rig([park(), park()]);
    await drain();
    const first = token();
    await answerCallback(deps, first, { kind: 'resume' });
    await drain();
    expect(current().status).to.equal('PARKED');
    const before = current();
    const error = await rejection(answerCallback(deps, first, { kind: 'resume' }));
    expect(error).to.be.instanceOf(ConflictError);
    expect(error.details?.reason).to.equal('over');
    expect(current()).to.deep.equal(before);
    expect((await answerCallback(deps, token(), { kind: 'resume' })).status).to.equal('RUNNING');
  });

  it('answers 400 to a malformed token, 404 to one it did not mint, 409 once its machine is deleted', async () => {
    const { deps, drain, token, id } = await rig([park()]);
    await drain();
    const real = token();
    expect(await rejection(answerCallback(deps, 'nonsense', { kind: 'resume' }))).to.be.instanceOf(ValidationError);
    const forged = `${real.slice(0, -4)}${real.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(await rejection(answerCallback(deps, forged, { kind: 'resume' }))).to.be.instanceOf(CallbackNotFoundError);
    const parts = real.split('.');
    parts[4] = '2';
    const otherStep = parts.join('.');
    expect(otherStep).not.to.equal(real);
    expect(await rejection(answerCallback(deps, otherStep, { kind: 'resume' }))).to.be.instanceOf(
      CallbackNotFoundError,
    );
    await deleteMachine(deps, id);
    const gone = await rejection(answerCallback(deps, real, { kind: 'resume' }));
    expect(gone).to.be.instanceOf(ConflictError);
    expect(gone.details?.reason).to.equal('deleted');
  });

  it('answers 409 over to the token of a wait a redrive put behind the machine', async () => {
    const { deps, drain, token, id, current } = await rig([park({ timeout: 3 })]);
    await drain(T0);
    await answerCallback(deps, token(), { kind: 'fail', error: 'no' });
    await redriveMachine(deps, id, {});
    const before = current();
    const error = await rejection(answerCallback(deps, token(), { kind: 'resume' }));
    expect(error.details?.reason).to.equal('over');
    expect(current()).to.deep.equal(before);
  });

  it('reads only tokens of its own form', async () => {
    const { drain, token, current } = await rig([park()]);
    await drain();
    const real = token();
    const read = readToken(real);
    expect(read?.claim).to.deep.equal({
      id: current().id,
      createdAt: current().createdAt,
      step: { version: 0, attempt: 1 },
    });
    expect(read?.authentic(current())).to.equal(true);
    expect(read?.authentic({ ...current(), callbackKey: 'another' })).to.equal(false);
    const { callbackKey: _key, ...keyless } = current();
    expect(read?.authentic(keyless)).to.equal(false);
    const parts = real.split('.');
    const variant = (index: number, value: string) => parts.map((p, i) => (i === index ? value : p)).join('.');
    for (const bad of [
      `${real}${'x'.repeat(600)}`,
      variant(0, 'fsm2'),
      variant(1, ''),
      variant(2, '!'),
      variant(3, '-1'),
      variant(5, '01'),
      variant(6, 'c2hvcnQ'),
      `${real}.extra`,
    ]) {
      expect(readToken(bad), bad.slice(0, 60)).to.equal(undefined);
    }
    expect(readToken(variant(5, '2'))?.claim.step).to.deep.equal({ version: 0, attempt: 1, woken: 2 });
  });

  it('answers 409 not-parked-yet to a token whose step still runs', async () => {
    const { deps, drain, invoker, token, current } = await rig([park()]);
    let during: Awaited<ReturnType<typeof rejection>> | undefined;
    invoker.during = async () => {
      during = await rejection(answerCallback(deps, token(), { kind: 'resume' }));
    };
    await drain();
    expect(during?.details?.reason).to.equal('not-parked-yet');
    expect(current().status).to.equal('PARKED');
  });

  it('fails the wait with the answer: FAILED, or caught', async () => {
    const failed = await rig([park()]);
    await failed.drain();
    const record = await answerCallback(failed.deps, failed.token(), { kind: 'fail', error: 'rejected by bob' });
    expect(record.status).to.equal('FAILED');
    expect(record.error?.message).to.equal('rejected by bob');
    expect((await failed.history()).at(-1)?.outcome).to.equal('callback-failed');

    const caught = await rig([park()], {
      config: { START: 'prepare', 'TASK-1': 'task-1', FINALIZE: 'finalize' },
      catch: { 'TASK-1': 'FINALIZE' },
    });
    await caught.drain(T0);
    const moved = await answerCallback(caught.deps, caught.token(), { kind: 'fail', error: 'no' });
    expect(moved).to.include({ status: 'RUNNING', state: 'FINALIZE' });
    expect(moved.caught?.message).to.equal('no');
  });

  it('counts a machine a failed answer fails (the failed-machines alarm)', async () => {
    const { deps, drain, token } = await rig([park()]);
    await drain();
    const metrics = new RecordingMetrics();
    await answerCallback({ ...deps, metrics }, token(), { kind: 'fail', error: 'no' });
    expect(metrics.counts).to.deep.equal(['MachinesFailed']);
  });

  it('takes `token` on POST /machines/{id}/resume, only for that machine', async () => {
    const { deps, drain, token, id } = await rig([park()]);
    await drain();
    const wrong = await rejection(resumeMachine(deps, 'another', { token: token() }));
    expect(wrong).to.be.instanceOf(ValidationError);
    expect((await resumeMachine(deps, id, { token: token() })).status).to.equal('RUNNING');
  });
});

describe('deadlines of a park', () => {
  it('fails a park with the timeout error once its timeout passes without an answer', async () => {
    const { drain, queue, current, history, deps, token } = await rig([park({ timeout: 3 })]);
    expect(await drain(T0)).to.deep.equal(['committed']);
    expect(current().wait?.timeoutAt).to.equal(new Date(T0 + 3000).toISOString());
    expect(queue.sent.at(-1)).to.deep.include({ delaySeconds: 3 });
    expect(await drain()).to.deep.equal(['committed']);
    expect(current().status).to.equal('FAILED');
    expect(current().error?.message).to.match(/^timed out/);
    expect((await history()).at(-1)?.outcome).to.equal('timed-out');
    const late = await rejection(answerCallback(deps, token(), { kind: 'resume' }));
    expect(late.details?.reason).to.equal('over');
  });

  it('refuses an answer past the deadline even before the expiry runs', async () => {
    const { drain, clock, current, deps, token } = await rig([park({ timeout: 3 })]);
    await drain(T0);
    clock.now = T0 + 3000;
    const late = await rejection(answerCallback(deps, token(), { kind: 'resume' }));
    expect(late.details?.reason).to.equal('timed-out');
    expect(current().status).to.equal('PARKED');
  });

  it('catches a timeout where the parked state has a catch', async () => {
    const { drain, current, history } = await rig([park({ timeout: 3 }), returned(null)], {
      catch: { 'TASK-1': 'FINALIZE' },
    });
    await drain(T0 + 3000);
    expect(current()).to.include({ status: 'SUCCEEDED' });
    const expiry = (await history()).find((e) => e.outcome === 'timed-out');
    expect(expiry).to.include({ from: 'TASK-1', to: 'FINALIZE' });
    expect(expiry?.error).to.match(/^timed out/);
  });

  it('chains a deadline past the longest queue delay in hops', async () => {
    const { drain, queue, current } = await rig([park({ timeout: 2000 })]);
    await drain(T0);
    expect(queue.sent.at(-1)).to.deep.include({ delaySeconds: 900 });
    expect(await drain(T0 + 1800_000)).to.deep.equal(['waiting', 'waiting']);
    expect(queue.sent.at(-1)).to.deep.include({ delaySeconds: 200 });
    expect(current().status).to.equal('PARKED');
    expect(await drain()).to.deep.equal(['committed']);
    expect(current().status).to.equal('FAILED');
  });

  it('keeps a wait alive while heartbeats come, and fails it once one is missed', async () => {
    const { drain, clock, current, deps, token, history } = await rig([park({ heartbeat: 3, timeout: 60 })]);
    await drain(T0);
    for (let second = 2; second <= 10; second += 2) {
      await drain(T0 + second * 1000);
      clock.now = T0 + second * 1000;
      const beaten = await answerCallback(deps, token(), { kind: 'heartbeat' });
      expect(beaten.wait?.heartbeatAt).to.equal(new Date(clock.now + 3000).toISOString());
    }
    expect(current().status).to.equal('PARKED');
    await drain(T0 + 30_000);
    expect(current().status).to.equal('FAILED');
    expect(current().error?.message).to.match(/^heartbeat missed/);
    const outcomes = (await history()).map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'heartbeat')).to.have.length(5);
    expect(outcomes.at(-1)).to.equal('heartbeat-missed');
    expect(clock.now, 'missed at the last beat + 3 s').to.equal(T0 + 13_000);
  });

  it('refuses a heartbeat to a wait without one', async () => {
    const { drain, deps, token } = await rig([park()]);
    await drain();
    const error = await rejection(answerCallback(deps, token(), { kind: 'heartbeat' }));
    expect(error.details?.reason).to.equal('no-heartbeat');
  });

  it('lets exactly one of an answer and the expiry racing it land', async () => {
    const { drain, current, deps, token, store, history } = await rig([park({ timeout: 3 })]);
    await drain(T0);
    // The answer commits between the expiry's read and its claim: the expiry loses, and its
    // message, sent again, finds the machine moved on.
    let answered = false;
    store.before.claim = async () => {
      if (answered) return;
      answered = true;
      store.before.claim = undefined;
      const parkedAt = T0 + 2000;
      await answerCallback({ ...deps, now: () => parkedAt }, token(), { kind: 'resume' });
    };
    const dispositions = await drain(T0 + 3000);
    expect(dispositions[0]).to.equal('deferred');
    expect(current().status).to.not.equal('FAILED');
    const outcomes = (await history()).map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'resumed' || o === 'timed-out')).to.deep.equal(['resumed']);
  });

  it('refuses timeout and heartbeat on a result that does not park', async () => {
    const { drain, current } = await rig([returned({ state: 'TASK-1', timeout: 3 })]);
    await drain(T0);
    expect(current().status).to.equal('FAILED');
    expect(current().error?.message).to.match(/for a park \(delay -1\) only/);
  });
});

describe('starting later (docs/design.md "Start later")', () => {
  it('creates the machine RUNNING now, its first step due at startAt, sent in hops', async () => {
    const { deps, queue } = fakeApiDeps({ now: () => T0 });
    const startAt = new Date(T0 + 3600_000).toISOString();
    const { record } = await addMachine(deps, definition({ startAt }));
    expect(record).to.include({ status: 'RUNNING', version: 0, wakeAt: startAt });
    expect(record.lastEvent).to.include({ outcome: 'created', delay: 3600 });
    expect(queue.sent).to.deep.equal([{ message: { id: record.id, version: 0, attempt: 1 }, delaySeconds: 900 }]);
  });

  it('takes startDelay in seconds, and starts a startAt in the past at once', async () => {
    const { deps, queue } = fakeApiDeps({ now: () => T0 });
    const later = await addMachine(deps, definition({ startDelay: 30 }));
    expect(later.record.wakeAt).to.equal(new Date(T0 + 30_000).toISOString());
    const past = await addMachine(deps, definition({ startAt: new Date(T0 - 5000).toISOString() }));
    expect(past.record.wakeAt).to.equal(undefined);
    expect(queue.sent.map((s) => s.delaySeconds)).to.deep.equal([30, 0]);
  });

  it('refuses a startAt more than a year ahead', async () => {
    const { deps, store } = fakeApiDeps({ now: () => T0 });
    const startAt = new Date(T0 + 366 * 86_400_000).toISOString();
    const error = await rejection(addMachine(deps, definition({ startAt })));
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).details[0]?.path).to.equal('startAt');
    expect(store.records.size).to.equal(0);
  });
});

describe('answers racing a deadline (seeded interleavings)', () => {
  const WAIT_OUTCOMES = ['resumed', 'callback-failed', 'timed-out', 'heartbeat-missed'];

  for (let seed = 1; seed <= 40; seed++) {
    it(`ends each wait in exactly one outcome, recorded once (seed ${seed})`, async () => {
      const random = seeded(seed);
      const { deps, drain, store, queue, processor, token, history, current, clock } = await rig([
        park({ timeout: 4, heartbeat: 2 }),
        returned(null),
      ]);
      await drain(T0);
      const deadlineMessage = queue.sent.at(-1)?.message;
      for (const method of [
        'getWithLease',
        'getRecordOnly',
        'claim',
        'releaseClaim',
        'commit',
        'writeRecordEvents',
      ] as const) {
        store.before[method] = yieldSometimes(random);
      }
      // The deadline falls now for the processors; the answers were read a moment before it.
      clock.now = T0 + 2000;
      const early = { ...deps, now: () => T0 + 1999 };
      const racers: Promise<unknown>[] = [];
      const copies = 1 + Math.floor(random() * 2);
      for (let i = 0; i < copies; i++) racers.push(processor(deadlineMessage as never));
      const answers = ['resume', 'fail', 'heartbeat'] as const;
      for (let i = 0, n = 1 + Math.floor(random() * 3); i < n; i++) {
        const kind = answers[Math.floor(random() * answers.length)] ?? 'resume';
        const answer = kind === 'fail' ? { kind, error: 'no' } : { kind };
        racers.push(answerCallback(early, token(0), answer).catch((error: Error) => error));
      }
      const settled = await Promise.all(racers);
      for (const result of settled) if (result instanceof Error) expect(result).to.be.instanceOf(ConflictError);
      await drain(T0 + 60_000);
      const outcomes = (await history()).map((e) => e.outcome).filter((o) => WAIT_OUTCOMES.includes(o));
      expect(outcomes, `seed ${seed}`).to.have.length(1);
      expect(current().status).to.equal(outcomes[0] === 'resumed' ? 'SUCCEEDED' : 'FAILED');
    });
  }
});
