import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { expect } from 'chai';
import { parseMachineDefinition } from '../../domain/definition';
import { createMachine } from '../../domain/machine';
import { handleDeadLetter } from '../../handlers/application/handleDeadLetter';
import { functionScope, readConfig } from '../../handlers/wiring/config';
import { buildServices } from '../../handlers/wiring/services';
import { api, waitFor, waitUntilFinished } from '../helpers/api';
import { fsm } from '../helpers/fsm';
import { currentStack } from '../helpers/stack';

const once = { retry: { maxAttempts: 1, backoffSeconds: 0, backoffRate: 1 } };

const outcomes = async (id: string) =>
  ((await api('GET', `/machines/${id}/history`)).body.events as { outcome: string }[]).map((e) => e.outcome);

async function addRunning(definition: Record<string, unknown>): Promise<string> {
  const added = await api('POST', '/machines', definition);
  expect(added.status, JSON.stringify(added.body)).to.equal(201);
  return added.body.id;
}

/** A machine whose only state fails its one attempt: FAILED within a second or so. */
async function failedMachine(extra: Record<string, unknown> = {}): Promise<string> {
  const id = await addRunning({
    state: 'S',
    config: { S: 'flaky' },
    object: { failTimes: 1 },
    options: once,
    ...extra,
  });
  expect((await waitUntilFinished(id)).status).to.equal('FAILED');
  return id;
}

/**
 * A machine as an add that died between its write and its send leaves it: RUNNING at version 0,
 * no message on its way, its step due `minutesAgo` minutes ago.
 */
async function strandedMachine(minutesAgo: number): Promise<string> {
  const { env, info } = currentStack();
  // The stack's shards, so the sweeper's index queries find it.
  const { config, store } = buildServices(readConfig({ ...env, STATUS_SHARDS: info.environment.STATUS_SHARDS }));
  const definition = parseMachineDefinition(
    { state: 'START', config: { START: 'prepare', 'TASK-1': 'noop' }, object: { steps: 1 } },
    functionScope(config),
  );
  const { record } = createMachine(definition, { id: randomUUID(), now: Date.now() - minutesAgo * 60_000 });
  expect(await store.create(record)).to.equal(true);
  return record.id;
}

describe('recovery and control, end to end', function () {
  this.timeout(60_000);

  describe('redrive', () => {
    it('puts a FAILED machine back to RUNNING at its failed state, alive again, and it finishes', async () => {
      const id = await failedMachine();
      const failed = (await api('GET', `/machines/${id}`)).body;
      expect(failed.expiresAt).to.be.a('number');

      const redriven = await api('POST', `/machines/${id}/redrive`, { object: {} });
      expect(redriven.status, JSON.stringify(redriven.body)).to.equal(202);
      expect(redriven.body).to.include({ status: 'RUNNING', state: 'S', version: 2, attempt: 1 });
      for (const gone of ['error', 'finishedAt', 'expiresAt']) expect(redriven.body).not.to.have.property(gone);

      expect((await waitUntilFinished(id)).status).to.equal('SUCCEEDED');
      expect(await outcomes(id)).to.deep.equal(['created', 'failed', 'redriven', 'succeeded']);
      const events = (await api('GET', `/machines/${id}/history`)).body.events;
      expect(events[2]).to.include({ version: 2, from: 'S', to: 'S', error: 'flaky failure on attempt 1' });
    });

    it('answers 409 naming the status for a machine that is not FAILED, 404 for an unknown one, 400 for a bad state', async () => {
      const id = await failedMachine();
      expect((await api('POST', `/machines/${id}/redrive`, { state: 'NOPE' })).body.details).to.deep.equal([
        { path: 'state', message: "state 'NOPE' is not a key of config" },
      ]);
      expect((await api('POST', `/machines/${id}/redrive`, { extra: 1 })).status).to.equal(400);
      await api('POST', `/machines/${id}/redrive`, { object: {} });
      await waitUntilFinished(id);
      const again = await api('POST', `/machines/${id}/redrive`);
      expect(again.status).to.equal(409);
      expect(again.body).to.include({ code: 'CONFLICT' });
      expect(again.body.details).to.deep.equal({ status: 'SUCCEEDED' });
      expect((await api('POST', '/machines/no-such-machine/redrive')).status).to.equal(404);
    });

    it('redrives a machine the dead-letter consumer failed', async () => {
      // Waiting on a long delay, its step "dead-letters": the consumer fails the machine.
      const id = await addRunning({
        state: 'START',
        config: { START: 'prepare', 'TASK-1': 'flaky' },
        object: { delay: 3600 },
      });
      const waiting = await waitFor(
        () => api('GET', `/machines/${id}`),
        (r) => r.body.version === 1 && !r.body.handlerRunning,
        { what: 'the machine to wait' },
      );
      const services = buildServices(readConfig(currentStack().env));
      const message = { id, version: 1, attempt: 1 };
      expect(await handleDeadLetter(services, message, 5)).to.equal('failed');
      const failed = (await api('GET', `/machines/${id}`)).body;
      expect(failed.error.message).to.equal('step 1 (attempt 1) dead-lettered after 5 receives');
      expect(waiting.body.state).to.equal('TASK-1');

      const redriven = await api('POST', `/machines/${id}/redrive`);
      expect(redriven.status).to.equal(202);
      expect((await waitUntilFinished(id)).status).to.equal('SUCCEEDED');
      expect(await outcomes(id)).to.deep.equal(['created', 'transition', 'failed', 'redriven', 'succeeded']);
    });

    it('fsm redrive --status FAILED --since redrives every machine that failed since then, with a summary', async () => {
      const since = new Date().toISOString();
      const ids = await Promise.all([failedMachine(), failedMachine(), failedMachine()]);
      const run = await fsm(
        'redrive',
        '--status',
        'FAILED',
        '--since',
        since,
        '--rate',
        '20',
        '--object',
        '{}',
        '--json',
      );
      expect(run.code, run.stderr).to.equal(0);
      const summary = JSON.parse(run.stdout);
      expect(summary.redriven).to.include.members(ids);
      expect(summary.failed).to.deep.equal([]);
      for (const id of ids) {
        expect((await waitUntilFinished(id)).status).to.equal('SUCCEEDED');
        expect(await outcomes(id)).to.deep.equal(['created', 'failed', 'redriven', 'succeeded']);
      }
      const human = await fsm('redrive', ids[0] as string);
      expect(human.code).to.equal(1);
      expect(human.stderr).to.match(/is SUCCEEDED, not FAILED.*\(HTTP 409\)/);
    });
  });

  describe('catch', () => {
    it('sends a failed state to its catching state, whose handler gets the error', async () => {
      const id = await addRunning({
        state: 'S',
        config: { S: 'always-fails', FIX: 'recover', END: 'finalize' },
        object: { next: 'END' },
        catch: { S: 'FIX' },
        options: { retry: { maxAttempts: 2, backoffSeconds: 0, backoffRate: 1 } },
      });
      const done = await waitUntilFinished(id);
      expect(done.status).to.equal('SUCCEEDED');
      expect(await outcomes(id)).to.deep.equal(['created', 'retry', 'caught', 'transition', 'succeeded']);
      const events = (await api('GET', `/machines/${id}/history`)).body.events;
      expect(events[2]).to.include({ from: 'S', to: 'FIX', attempt: 2, error: 'always fails (attempt 2)' });
      // finalize does not change the object, so recover's is the last one.
      expect(done.object.caught).to.deep.equal({ message: 'always fails (attempt 2)', state: 'S', attempt: 2 });
      const diagram = (await api('GET', `/machines/${id}/diagram`)).text;
      expect(diagram).to.match(/s0 --> s1 : catch/);
    });

    it('catches machine-wide with *, but not failures of the * state itself', async () => {
      const id = await addRunning({
        state: 'S',
        config: { S: 'garbage', FIX: 'always-fails' },
        catch: { '*': 'FIX' },
        options: once,
      });
      const done = await waitUntilFinished(id);
      expect(done.status).to.equal('FAILED');
      expect(done.state).to.equal('FIX');
      expect(await outcomes(id)).to.deep.equal(['created', 'caught', 'failed']);
      // The failure it caught went with the state that handled it; the history keeps both.
      expect(done).not.to.have.property('caught');
      const events = (await api('GET', `/machines/${id}/history`)).body.events;
      expect(events[1]).to.include({ outcome: 'caught', from: 'S', to: 'FIX', attempt: 1 });
      // The garbage function returns { notAState: true, answer: 42 }: the error names the field.
      expect(events[1].error).to.equal('malformed handler result: result.state is missing (the next state)');
      expect(done.error).to.include({ message: 'always fails (attempt 1)', state: 'FIX' });
    });

    it('refuses a catch to a state not in config, or from a key that is neither * nor a state (400 naming the path)', async () => {
      const refused = await api('POST', '/machines', {
        state: 'S',
        config: { S: 'prepare' },
        catch: { S: 'ELSEWHERE', TYPO: 'S' },
      });
      expect(refused.status).to.equal(400);
      expect(refused.body.details.map((d: { path: string }) => d.path)).to.have.members(['catch.S', 'catch.TYPO']);
    });
  });

  describe('timeouts', () => {
    it("fails, as a retryable failure, a handler that runs past its state's timeout", async () => {
      const id = await addRunning({
        state: 'S',
        config: { S: 'sleepy' },
        object: { sleepMs: 1500 },
        timeouts: { S: 1 },
        options: { retry: { maxAttempts: 2, backoffSeconds: 0, backoffRate: 1 } },
      });
      const done = await waitUntilFinished(id);
      expect(done.status).to.equal('FAILED');
      expect(done.error.message).to.equal("timeout: no answer within the state's timeout of 1 s");
      expect(await outcomes(id)).to.deep.equal(['created', 'retry', 'failed']);
    });

    it('lets a handler within its timeout finish', async () => {
      const id = await addRunning({
        state: 'S',
        config: { S: 'sleepy' },
        object: { sleepMs: 200 },
        timeouts: { '*': 5 },
      });
      expect((await waitUntilFinished(id)).status).to.equal('SUCCEEDED');
    });

    it('refuses a timeout the deployment cannot honour, saying which bound and why (400)', async () => {
      const refused = await api('POST', '/machines', { state: 'S', config: { S: 'prepare' }, timeouts: { S: 57 } });
      expect(refused.status).to.equal(400);
      expect(refused.body.details).to.deep.equal([
        {
          path: 'timeouts.S',
          message:
            "57 s is longer than this deployment can wait for a handler: at most 56 s, the transition processor's invoke share (0.8) of its 70 s lease on a step",
        },
      ]);
    });
  });

  describe('lost step messages', () => {
    it('wake sends the step of an overdue machine again (202, no commit), and the machine runs on once', async () => {
      const id = await strandedMachine(1);
      const woken = await api('POST', `/machines/${id}/wake`);
      expect(woken.status, JSON.stringify(woken.body)).to.equal(202);
      expect(woken.body).to.include({ status: 'RUNNING', version: 0 });
      expect(woken.body).not.to.have.property('woken');
      expect((await waitUntilFinished(id, 15_000)).status).to.equal('SUCCEEDED');
      expect(await outcomes(id)).to.deep.equal(['created', 'transition', 'succeeded']);
    });

    it('the scheduled sweeper sends the step of a machine overdue by more than its threshold, and it runs on once', async () => {
      const id = await strandedMachine(20); // past the 15 minutes of sweepAfterSeconds
      const { info, env } = currentStack();
      const lambda = new LambdaClient({ region: info.region, endpoint: env.LAMBDA_ENDPOINT, maxAttempts: 1 });
      try {
        // As EventBridge would run it (its schedule is minutes apart).
        const answer = await lambda.send(
          new InvokeCommand({ FunctionName: info.functions.sweeper, Payload: new TextEncoder().encode('{}') }),
        );
        expect(answer.FunctionError).to.equal(undefined);
        expect(JSON.parse(new TextDecoder().decode(answer.Payload)).resent).to.be.at.least(1);
      } finally {
        lambda.destroy();
      }
      expect((await waitUntilFinished(id, 15_000)).status).to.equal('SUCCEEDED');
      expect(await outcomes(id)).to.deep.equal(['created', 'transition', 'succeeded']);
    });
  });

  describe('wake', () => {
    it('runs the step of a machine waiting on an hour-long delay now, once', async () => {
      const id = await addRunning({
        state: 'START',
        config: { START: 'prepare', 'TASK-1': 'flaky' },
        object: { delay: 3600 },
      });
      await waitFor(
        () => api('GET', `/machines/${id}`),
        (r) => r.body.version === 1 && r.body.wakeAt !== undefined && !r.body.handlerRunning,
        { what: 'the machine to wait' },
      );
      const woken = await api('POST', `/machines/${id}/wake`);
      expect(woken.status, JSON.stringify(woken.body)).to.equal(202);
      expect(woken.body).to.include({ status: 'RUNNING', state: 'TASK-1', woken: 1 });
      expect(woken.body).not.to.have.property('wakeAt');
      expect((await waitUntilFinished(id, 15_000)).status).to.equal('SUCCEEDED');
      expect(await outcomes(id)).to.deep.equal(['created', 'transition', 'woken', 'succeeded']);
      // The scheduled message keeps hopping (2 s queue delay cap here) until it finds the step stale.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await outcomes(id)).to.have.length(4);

      const again = await api('POST', `/machines/${id}/wake`);
      expect(again.status).to.equal(409);
      expect(again.body.details).to.deep.equal({ status: 'SUCCEEDED' });
    });

    it('lets exactly one of two simultaneous wakes through', async () => {
      const id = await addRunning({
        state: 'START',
        config: { START: 'prepare', 'TASK-1': 'flaky' },
        object: { delay: 3600 },
      });
      await waitFor(
        () => api('GET', `/machines/${id}`),
        (r) => r.body.version === 1 && r.body.wakeAt !== undefined && !r.body.handlerRunning,
        { what: 'the machine to wait' },
      );
      const answers = await Promise.all([api('POST', `/machines/${id}/wake`), api('POST', `/machines/${id}/wake`)]);
      expect(answers.map((a) => a.status).sort()).to.deep.equal([202, 409]);
      expect((await waitUntilFinished(id, 15_000)).status).to.equal('SUCCEEDED');
      expect(await outcomes(id)).to.deep.equal(['created', 'transition', 'woken', 'succeeded']);
    });

    it('answers 409 naming the status and why for a machine that is not waiting, 404 for none', async () => {
      const parked = await addRunning({ state: 'S', config: { S: 'park', T: 'prepare' }, object: { next: 'T' } });
      await waitFor(
        () => api('GET', `/machines/${parked}`),
        (r) => r.body.status === 'PARKED',
        { what: 'the machine to park' },
      );
      const refused = await api('POST', `/machines/${parked}/wake`);
      expect(refused.status).to.equal(409);
      expect(refused.body.details).to.deep.equal({ status: 'PARKED' });
      expect(refused.body.error).to.equal(`machine '${parked}' is PARKED, not RUNNING: it waits for no step`);
      expect((await api('POST', '/machines/no-such-machine/wake')).status).to.equal(404);
    });
  });

  describe('listing every status', () => {
    it('lists RUNNING, PARKED, SUCCEEDED and FAILED at once with status=ALL, and a comma list', async () => {
      const failed = await failedMachine();
      const all = await api('GET', '/machines?status=ALL&limit=100');
      expect(all.status).to.equal(200);
      const statuses = new Set(all.body.items.map((m: { status: string }) => m.status));
      expect([...statuses]).to.include.members(['FAILED', 'SUCCEEDED']);
      const some = await api('GET', '/machines?status=FAILED,SUCCEEDED&limit=100');
      expect(some.body.items.map((m: { id: string }) => m.id)).to.include(failed);
      expect(some.body.items.every((m: { status: string }) => m.status !== 'RUNNING')).to.equal(true);
      expect((await api('GET', '/machines?status=DONE')).body.details[0].path).to.equal('status');
      const cli = await fsm('list', '--status', 'all', '--limit', '100', '--json');
      expect(cli.code, cli.stderr).to.equal(0);
      expect(JSON.parse(cli.stdout).items.map((m: { id: string }) => m.id)).to.include(failed);
    });
  });
});
