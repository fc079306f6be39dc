import { expect } from 'chai';
import { api, getMachine, waitFor, waitUntilFinished } from '../helpers/api';

/** A machine whose START parks (test-functions/faulty.ts `park`), its token exposed in its object. */
async function parkedMachine(object: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const added = await api('POST', '/machines', {
    state: 'START',
    config: { START: 'park', FINALIZE: 'finalize', RECOVER: 'recover' },
    object: { next: 'FINALIZE', exposeToken: true, ...object },
    ...extra,
  });
  expect(added.status).to.equal(201);
  const parked = await waitFor(
    () => getMachine(added.body.id),
    (r) => r.body.status === 'PARKED',
    { what: 'the machine to park' },
  );
  return { id: added.body.id as string, token: parked.body.object.callbackToken as string, parked: parked.body };
}

const outcomes = async (id: string) =>
  (await api('GET', `/machines/${id}/history`)).body.events.map((e: { outcome: string }) => e.outcome);

describe('callbacks (docs/design.md "Callbacks")', () => {
  it("resumes by token once; a second answer, an earlier park's token and a forged one change nothing", async () => {
    const { id, token } = await parkedMachine();
    expect(token).to.match(/^fsm1\./);
    expect((await api('POST', '/callbacks', { token: 'garbage' })).status).to.equal(400);
    const forged = await api('POST', '/callbacks', {
      token: `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`,
    });
    expect(forged.status).to.equal(404);
    const resumed = await api('POST', '/callbacks', { token, state: 'START' });
    expect(resumed.status).to.equal(202);
    // Back in START, it parks again: the first token belongs to a wait that is over.
    const again = await waitFor(
      () => getMachine(id),
      (r) => r.body.status === 'PARKED' && r.body.version === 2,
      { what: 'the second park' },
    );
    const stale = await api('POST', '/callbacks', { token });
    expect(stale.status).to.equal(409);
    expect(stale.body.details.reason).to.equal('over');
    expect((await getMachine(id)).body).to.deep.include({ status: 'PARKED', version: 2 });
    const second = again.body.object.callbackToken as string;
    expect(second).not.to.equal(token);
    const failed = await api('POST', '/callbacks/fail', { token: second, error: 'rejected' });
    expect(failed.status).to.equal(202);
    expect(failed.body).to.deep.include({ status: 'FAILED' });
    expect(failed.body.error.message).to.equal('rejected');
    expect(await outcomes(id)).to.deep.equal(['created', 'parked', 'resumed', 'parked', 'callback-failed']);
  });

  it('fails a park with timeout 3 s with the timeout error, caught where the state has a catch', async () => {
    const started = Date.now();
    // Both at once: the suite waits for the two deadlines together.
    const [{ id }, caught] = await Promise.all([
      parkedMachine({ parkTimeout: 3 }),
      parkedMachine({ parkTimeout: 3 }, { catch: { FINALIZE: 'RECOVER' } }),
    ]);
    const [failed, recovered] = await Promise.all([
      waitUntilFinished(id, 15_000),
      waitUntilFinished(caught.id, 15_000),
    ]);
    expect(Date.now() - started).to.be.below(12_000);
    expect(failed.status).to.equal('FAILED');
    expect(failed.error.message).to.match(/^timed out/);
    expect((await outcomes(id)).at(-1)).to.equal('timed-out');
    expect(recovered.status).to.equal('SUCCEEDED');
    expect(recovered.object.caught.message).to.match(/^timed out/);
  });

  it('keeps a park with heartbeat 3 s alive by heartbeats, then fails it once they stop', async () => {
    const { id, token } = await parkedMachine({ heartbeat: 3 });
    const until = Date.now() + 7_000;
    while (Date.now() < until) {
      const beat = await api('POST', '/callbacks/heartbeat', { token });
      expect(beat.status, JSON.stringify(beat.body)).to.equal(202);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect((await getMachine(id)).body.status).to.equal('PARKED');
    const failed = await waitUntilFinished(id, 15_000);
    expect(failed.error.message).to.match(/^heartbeat missed/);
    expect((await outcomes(id)).at(-1)).to.equal('heartbeat-missed');
    expect((await api('POST', '/callbacks/heartbeat', { token })).status).to.equal(409);
  });
});

describe('starting later (docs/design.md "Start later")', () => {
  it('creates the machine now, RUNNING, and runs its first step no earlier than startAt', async () => {
    const startAt = new Date(Date.now() + 3_000).toISOString();
    const added = await api('POST', '/machines', { state: 'S', config: { S: 'finalize' }, startAt });
    expect(added.status).to.equal(201);
    expect(added.body).to.include({ status: 'RUNNING', version: 0, wakeAt: startAt });
    const finished = await waitUntilFinished(added.body.id, 15_000);
    expect(finished.status).to.equal('SUCCEEDED');
    expect(Date.parse(finished.finishedAt)).to.be.at.least(Date.parse(startAt));
    const tooLate = new Date(Date.now() + 400 * 86_400_000).toISOString();
    const refused = await api('POST', '/machines', { state: 'S', config: { S: 'finalize' }, startAt: tooLate });
    expect(refused.status).to.equal(400);
    expect(refused.body.details[0].path).to.equal('startAt');
  });
});
