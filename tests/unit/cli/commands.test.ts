import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { add } from '../../../cli/commands/add';
import { callback, heartbeat } from '../../../cli/commands/callback';
import type { CommandContext } from '../../../cli/commands/context';
import { deleteMachine } from '../../../cli/commands/delete';
import { list } from '../../../cli/commands/list';
import { resume } from '../../../cli/commands/resume';
import { wake } from '../../../cli/commands/wake';
import { watch } from '../../../cli/commands/watch';
import { CliError } from '../../../cli/errors';
import { ApiClient } from '../../../client/apiClient';
import { FakeServer } from '../client/fakeServer';

const machine = (overrides: Record<string, unknown> = {}) => ({
  id: 'm-1',
  state: 'START',
  status: 'RUNNING',
  version: 0,
  attempt: 1,
  object: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  handlerRunning: false,
  ...overrides,
});

describe('cli commands against a local server', () => {
  let server: FakeServer;
  let out: string[];
  const context = (json = false): CommandContext => ({
    api: new ApiClient({ endpoint: server.url }),
    json,
    write: (text) => out.push(text),
  });

  beforeEach(async () => {
    server = await new FakeServer().start();
    out = [];
  });
  afterEach(() => server.stop());

  describe('list', () => {
    const summary = (id: string) => ({ id, state: 'S', status: 'FAILED', version: 1, createdAt: id, updatedAt: id });

    it('prints one page, and says when there is more', async () => {
      server.reply = () => ({ status: 200, body: { items: [summary('b')], nextToken: 'p2' } });
      await list(context(), { status: 'FAILED', all: false, limit: '1' });
      expect(server.requests.map((r) => r.url)).to.deep.equal(['/machines?status=FAILED&limit=1']);
      expect(out[0]?.split('\n').slice(1)).to.deep.equal([
        'b         FAILED  S      1        b',
        '(more: use --all-pages)',
      ]);
    });

    it('--all follows nextToken and prints { items } as JSON', async () => {
      server.reply = (r) =>
        r.url.includes('nextToken')
          ? { status: 200, body: { items: [summary('a')] } }
          : { status: 200, body: { items: [summary('b')], nextToken: 'p2' } };
      await list(context(true), { all: true, limit: '25' });
      expect(server.requests.map((r) => r.url)).to.deep.equal([
        '/machines?limit=25',
        '/machines?limit=25&nextToken=p2',
      ]);
      expect(JSON.parse(out[0] ?? '')).to.deep.equal({ items: [summary('b'), summary('a')] });
    });
  });

  describe('watch', () => {
    it('prints each new event once, then the outcome, and returns 0 for SUCCEEDED', async () => {
      const events = [
        { seq: 0, outcome: 'created', at: '2026-01-01T00:00:00.000Z', version: 0, to: 'START' },
        { seq: 1, outcome: 'transition', at: '2026-01-01T00:00:00.500Z', version: 1, from: 'START', to: 'END' },
        { seq: 2, outcome: 'succeeded', at: '2026-01-01T00:00:01.000Z', version: 2, from: 'END' },
      ];
      let gets = 0;
      server.reply = (r) => {
        if (r.url.endsWith('/history')) return { status: 200, body: { id: 'm-1', events: events.slice(0, gets + 1) } };
        gets++;
        return {
          status: 200,
          body: gets < 3 ? machine({ version: gets - 1 }) : machine({ status: 'SUCCEEDED', state: 'END', version: 2 }),
        };
      };
      expect(await watch(context(), 'm-1', { intervalMs: 1 })).to.equal(0);
      expect(out).to.deep.equal([
        'watching m-1 (state START, RUNNING)',
        '   +0.0s  v0 created    START',
        '   +0.5s  v1 transition START -> END',
        '   +1.0s  v2 succeeded  END',
        'SUCCEEDED in state END after 2 steps',
      ]);
    });

    it('returns 1 for FAILED and prints JSON lines under --json', async () => {
      server.reply = (r) =>
        r.url.endsWith('/history')
          ? { status: 200, body: { id: 'm-1', events: [] } }
          : { status: 200, body: machine({ status: 'FAILED' }) };
      expect(await watch(context(true), 'm-1', { intervalMs: 1 })).to.equal(1);
      expect(JSON.parse(out[0] ?? '')).to.deep.equal({ watching: 'm-1' });
      expect(JSON.parse(out[1] ?? '').status).to.equal('FAILED');
    });

    it('fails with "was deleted" when the machine disappears while watched', async () => {
      let gets = 0;
      server.reply = (r) => {
        if (r.url.endsWith('/history')) return { status: 200, body: { id: 'm-1', events: [] } };
        return ++gets === 1 ? { status: 200, body: machine() } : { status: 404, body: { error: 'no machine' } };
      };
      const error = await watch(context(), 'm-1', { intervalMs: 1 }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CliError);
      expect((error as CliError).message).to.equal('m-1 was deleted');
    });
  });

  describe('add', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fsm-unit-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('posts the file as is and prints what was added', async () => {
      const file = join(dir, 'fsm.json');
      await writeFile(file, '{"state":"START","config":{"START":"prepare"}}');
      server.reply = () => ({ status: 201, body: machine() });
      await add(context(), file);
      expect(server.requests[0]?.body).to.equal('{"state":"START","config":{"START":"prepare"}}');
      expect(out).to.deep.equal(['added m-1 (RUNNING, state START)']);
    });

    it('reads standard input for -, and refuses what is not JSON before calling the API', async () => {
      server.reply = () => ({ status: 201, body: machine() });
      await add(context(), '-', async () => '{"state":"S"}');
      expect(server.requests[0]?.body).to.equal('{"state":"S"}');
      const error = await add(context(), '-', async () => '{').catch((e: unknown) => e);
      expect((error as CliError).message).to.match(/^- is not valid JSON: /);
      const missing = await add(context(), join(dir, 'absent.json')).catch((e: unknown) => e);
      expect((missing as CliError).message).to.match(/^cannot read .*absent\.json: ENOENT/);
      expect(server.requests).to.have.length(1);
    });
  });

  it('resume sends --object and --state, and refuses --object that is not JSON', async () => {
    server.reply = () => ({ status: 202, body: machine({ state: 'T' }) });
    await resume(context(), 'm-1', { object: '{"a":1}', state: 'T' });
    expect(server.requests[0]?.body).to.equal('{"object":{"a":1},"state":"T"}');
    expect(out).to.deep.equal(['resumed m-1 (RUNNING, state T)']);
    const error = await resume(context(), 'm-1', { object: '{' }).catch((e: unknown) => e);
    expect((error as CliError).message).to.match(/^--object is not valid JSON/);
    expect(server.requests).to.have.length(1);
  });

  it('callback sends the token in the body: resume with a JSON file and a state, or fail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fsm-callback-'));
    try {
      const file = join(dir, 'answer.json');
      await writeFile(file, '{"approved":true}');
      server.reply = () => ({ status: 202, body: machine({ state: 'T' }) });
      await callback(context(), 'fsm1.tok', { object: file, state: 'T' });
      expect(server.requests[0]).to.deep.include({ method: 'POST', url: '/callbacks' });
      expect(JSON.parse(server.requests[0]?.body ?? '')).to.deep.equal({
        token: 'fsm1.tok',
        object: { approved: true },
        state: 'T',
      });
      expect(out).to.deep.equal(['resumed m-1 (RUNNING, state T)']);
      await callback(context(), 'fsm1.tok', { fail: 'rejected' });
      expect(server.requests[1]).to.deep.include({
        url: '/callbacks/fail',
        body: '{"token":"fsm1.tok","error":"rejected"}',
      });
      const both = await callback(context(), 'fsm1.tok', { fail: 'x', state: 'T' }).catch((e: unknown) => e);
      expect(both).to.be.instanceOf(CliError);
      await heartbeat(context(), 'fsm1.tok');
      expect(server.requests[2]).to.deep.include({ url: '/callbacks/heartbeat', body: '{"token":"fsm1.tok"}' });
      expect(server.requests).to.have.length(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('add --in and --at start the machine later', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fsm-add-'));
    try {
      const file = join(dir, 'm.json');
      await writeFile(file, '{"state":"S","config":{"S":"prepare"}}');
      server.reply = () => ({ status: 201, body: machine() });
      await add(context(), file, undefined, { in: '60' });
      expect(JSON.parse(server.requests[0]?.body ?? '')).to.include({ startDelay: 60 });
      await add(context(), file, undefined, { at: '2026-12-24T09:00:00Z' });
      expect(JSON.parse(server.requests[1]?.body ?? '')).to.include({ startAt: '2026-12-24T09:00:00Z' });
      expect(await add(context(), file, undefined, { in: 'soon' }).catch((e: unknown) => e)).to.be.instanceOf(CliError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('delete prints { id, deleted, removing } as JSON', async () => {
    server.reply = () => ({ status: 202, body: { id: 'm-1', removing: true } });
    await deleteMachine(context(true), 'm-1');
    expect(JSON.parse(out[0] ?? '')).to.deep.equal({ id: 'm-1', deleted: false, removing: true });
  });

  it('wake of a PARKED machine says to resume it; any other refusal is passed on', async () => {
    const refusal = (status: string) => ({
      status: 409,
      body: {
        error: `machine 'm-1' is ${status}, not RUNNING: it waits for no step`,
        code: 'CONFLICT',
        details: { status },
      },
    });
    server.reply = () => refusal('PARKED');
    const parked = await wake(context(), 'm-1').catch((e: unknown) => e);
    expect(parked).to.be.instanceOf(CliError);
    expect((parked as Error).message).to.match(
      /not RUNNING.*\(HTTP 409\); a PARKED machine runs on with: fsm resume m-1$/,
    );
    server.reply = () => refusal('SUCCEEDED');
    const finished = await wake(context(), 'm-1').catch((e: unknown) => e);
    expect((finished as Error).message).to.not.contain('fsm resume');
  });
});
