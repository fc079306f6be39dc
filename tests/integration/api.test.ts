import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { MAX_PAGE_SIZE } from '../../domain/limits';
import { api, apiClient, exampleWorkflow, getMachine, waitFor, waitUntilFinished } from '../helpers/api';

/** The ids of every machine listed for `status` (the alive ones without), across all pages. */
const listedIds = async (status?: 'PARKED') =>
  (await apiClient().listAll({ ...(status ? { status } : {}), limit: MAX_PAGE_SIZE })).map((m) => m.id);

describe('HTTP API on the local stack', function () {
  this.timeout(60_000);

  describe('the original workflow', () => {
    it('runs START -> TASK-1 -> TASK-2a|b -> FINALIZE to SUCCEEDED with the expected object', async () => {
      const added = await api('POST', '/machines', exampleWorkflow({ orderId: 7 }));
      expect(added.status).to.equal(201);
      expect(added.body).to.include({ status: 'RUNNING', state: 'START', version: 0 });

      const finished = await waitUntilFinished(added.body.id);
      expect(finished.status).to.equal('SUCCEEDED');
      expect(finished.version).to.equal(4);
      expect(finished.object.orderId).to.equal(7);
      expect(finished.object.trail.slice(0, 2)).to.deep.equal(['START', 'TASK-1']);
      expect(finished.object.trail[2]).to.be.oneOf(['TASK-2a', 'TASK-2b']);
      expect(finished.state).to.equal('FINALIZE');
      expect(finished.finishedAt).to.be.a('string');
    });

    it('runs examples/fsm.json unchanged', async () => {
      const example = JSON.parse(await readFile('examples/fsm.json', 'utf8'));
      const added = await api('POST', '/machines', { ...example, object: { ...example.object, delay: 0 } });
      expect(added.status).to.equal(201);
      expect((await waitUntilFinished(added.body.id)).status).to.equal('SUCCEEDED');
    });

    it('shows a running machine in get and list while it runs', async () => {
      const added = await api('POST', '/machines', exampleWorkflow({ delay: 1, branch: 'b' }));
      const moved = await waitFor(
        () => getMachine(added.body.id),
        (r) => r.body.version >= 1,
        { what: 'the first step' },
      );
      expect(moved.body).to.include({ status: 'RUNNING' });
      expect(moved.body).not.to.have.property('lease');

      expect(await listedIds()).to.include(added.body.id);

      const finished = await waitUntilFinished(added.body.id);
      expect(finished.object.trail).to.deep.equal(['START', 'TASK-1', 'TASK-2b']);
      expect(await listedIds()).not.to.include(added.body.id);
    });
  });

  describe('adding by name', () => {
    it('answers 201, then 200 with the same machine for the same definition, and 409 for another', async () => {
      const definition = exampleWorkflow({ n: 1 }, { name: `order-${Date.now()}` });
      const first = await api('POST', '/machines', definition);
      const again = await api('POST', '/machines', definition);
      const other = await api('POST', '/machines', { ...definition, object: { n: 2 } });
      expect([first.status, again.status, other.status]).to.deep.equal([201, 200, 409]);
      expect(again.body.id).to.equal(first.body.id);
      expect(first.body.id).to.equal(definition.name);
      expect(other.body.error).to.match(/another definition/);
    });
  });

  describe('bad requests', () => {
    const cases: [string, unknown, string][] = [
      ['malformed JSON', '{"state": "START",', '(body)'],
      ['a missing start state', { config: { START: 'prepare' } }, 'state'],
      ['an empty config', { state: 'START', config: {} }, 'config'],
      ['a start state not in config', { state: 'NOPE', config: { START: 'prepare' } }, 'state'],
      [
        'a reference outside the allow-list',
        { state: 'START', config: { START: 'arn:aws:lambda:us-east-1:123456789012:function:payroll' } },
        'config.START',
      ],
      ['no body at all', undefined, '(root)'],
    ];
    for (const [what, body, path] of cases) {
      it(`answers 400 { error, details } naming ${path} for ${what}, and creates nothing`, async () => {
        const before = await api('GET', '/machines?limit=100');
        const response = await api('POST', '/machines', body);
        expect(response.status).to.equal(400);
        expect(response.body.error).to.be.a('string');
        expect(response.body.details.map((d: { path: string }) => d.path)).to.include(path);
        expect(response.text).not.to.match(/at .*\.(ts|js):\d+/);
        const after = await api('GET', '/machines?limit=100');
        expect(after.body.items.length).to.be.at.most(before.body.items.length);
      });
    }

    it('answers 413 for an oversized object', async () => {
      const response = await api('POST', '/machines', exampleWorkflow({ blob: 'x'.repeat(300 * 1024) }));
      expect(response.status).to.equal(413);
      expect(response.body.error).to.match(/limit/);
    });

    it('answers 400 for a bad list query', async () => {
      const responses = await Promise.all([
        api('GET', '/machines?status=DONE'),
        api('GET', '/machines?limit=0'),
        api('GET', '/machines?nextToken=xyz'),
      ]);
      expect(responses.map((r) => r.status)).to.deep.equal([400, 400, 400]);
    });
  });

  describe('park and resume', () => {
    it('parks on a negative delay, resumes with new data (202) and then finishes', async () => {
      const added = await api('POST', '/machines', {
        state: 'START',
        config: { START: 'park', FINALIZE: 'finalize' },
        object: { next: 'FINALIZE' },
      });
      const parked = await waitFor(
        () => getMachine(added.body.id),
        (r) => r.body.status === 'PARKED',
        { what: 'the machine to park' },
      );
      expect(parked.body).to.include({ state: 'FINALIZE', version: 1 });
      expect(await listedIds('PARKED')).to.include(added.body.id);

      expect((await api('POST', `/machines/${added.body.id}/resume`, { state: 'NOPE' })).status).to.equal(400);
      const resumed = await api('POST', `/machines/${added.body.id}/resume`, { object: { approved: true } });
      expect(resumed.status).to.equal(202);
      expect(resumed.body.status).to.equal('RUNNING');

      const finished = await waitUntilFinished(added.body.id);
      expect(finished).to.include({ status: 'SUCCEEDED', version: 2 });
      expect(finished.object).to.deep.equal({ approved: true });
      const history = await api('GET', `/machines/${added.body.id}/history`);
      expect(history.body.events.map((e: any) => e.outcome)).to.deep.equal([
        'created',
        'parked',
        'resumed',
        'succeeded',
      ]);

      expect((await api('POST', `/machines/${added.body.id}/resume`, {})).status).to.equal(409);
    });

    it('answers 404 to resuming an unknown machine', async () => {
      expect((await api('POST', '/machines/nobody/resume', {})).status).to.equal(404);
    });
  });

  describe('unknown ids', () => {
    it('answers 404 to get and delete, and delete creates no record', async () => {
      const id = `missing-${Date.now()}`;
      expect((await getMachine(id)).status).to.equal(404);
      const deleted = await api('DELETE', `/machines/${id}`);
      expect(deleted.status).to.equal(404);
      expect(deleted.body.error).to.match(/no machine/);
      expect((await getMachine(id)).status).to.equal(404);
    });
  });

  describe('delete', () => {
    it('removes a machine waiting for its next step (204) and its pending message is dropped', async () => {
      const added = await api('POST', '/machines', exampleWorkflow({ delay: 2 }));
      await waitFor(
        () => getMachine(added.body.id),
        (r) => r.body.version >= 1,
        { what: 'the first step' },
      );
      const deleted = await api('DELETE', `/machines/${added.body.id}`);
      expect(deleted.status).to.be.oneOf([202, 204]);
      await waitFor(
        () => getMachine(added.body.id),
        (r) => r.status === 404,
        { what: 'the machine to be gone' },
      );
      // The step that was pending must not bring it back.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await getMachine(added.body.id)).status).to.equal(404);
      expect((await api('GET', `/machines/${added.body.id}/history`)).status).to.equal(404);
    });
  });
});
