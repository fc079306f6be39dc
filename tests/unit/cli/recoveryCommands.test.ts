import { expect } from 'chai';
import type { CommandContext } from '../../../cli/commands/context';
import { list } from '../../../cli/commands/list';
import { parseSince, redrive } from '../../../cli/commands/redrive';
import { wake } from '../../../cli/commands/wake';
import { CliError } from '../../../cli/errors';
import { describeEvent, describeMachine } from '../../../cli/format';
import { ApiClient } from '../../../client/apiClient';
import { rejection } from '../../helpers/rejection';
import { FakeServer } from '../client/fakeServer';

const NOW = Date.parse('2026-01-02T00:00:00.000Z');
const view = (overrides: Record<string, unknown> = {}) => ({
  id: 'm-1',
  state: 'TASK-1',
  status: 'RUNNING',
  version: 4,
  attempt: 1,
  object: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  handlerRunning: false,
  ...overrides,
});
const summary = (id: string, updatedAt: string) => ({
  id,
  state: 'S',
  status: 'FAILED',
  version: 1,
  createdAt: updatedAt,
  updatedAt,
});

describe('cli recovery commands against a local server', () => {
  let server: FakeServer;
  let out: string[];
  let progress: string[];
  const sleeps: number[] = [];
  const clock = { now: () => NOW, sleep: async (ms: number) => void sleeps.push(ms) };
  const context = (json = false): CommandContext => ({
    api: new ApiClient({ endpoint: server.url }),
    json,
    write: (text) => out.push(text),
    progress: (text) => progress.push(text),
  });

  beforeEach(async () => {
    server = await new FakeServer().start();
    out = [];
    progress = [];
    sleeps.length = 0;
  });
  afterEach(() => server.stop());

  it('redrive <id> posts --object and --state and prints what it did', async () => {
    server.reply = () => ({ status: 202, body: view() });
    const code = await redrive(context(), 'm-1', { object: '{"fixed":true}', state: 'TASK-1' }, clock);
    expect(code).to.equal(0);
    expect(server.requests.map((r) => [r.method, r.url, r.body])).to.deep.equal([
      ['POST', '/machines/m-1/redrive', '{"object":{"fixed":true},"state":"TASK-1"}'],
    ]);
    expect(out).to.deep.equal(['redriven m-1 (RUNNING, state TASK-1, version 4)']);
  });

  it('redrive refuses bad --object, a missing id without --status FAILED, both at once, and a bad --rate', async () => {
    const cases: [string | undefined, Record<string, string>, RegExp][] = [
      ['m-1', { object: '{' }, /--object is not valid JSON/],
      [undefined, {}, /give a machine id, or --status FAILED/],
      [undefined, { status: 'RUNNING' }, /only FAILED machines can be redriven/],
      ['m-1', { status: 'FAILED' }, /not both/],
      [undefined, { status: 'FAILED', rate: '0' }, /--rate '0' must be a positive number/],
      [undefined, { status: 'FAILED', since: 'yesterday' }, /--since 'yesterday' is neither/],
    ];
    for (const [id, options, message] of cases) {
      const error = await rejection(redrive(context(), id, options, clock));
      expect(error, JSON.stringify(options)).to.be.instanceOf(CliError);
      expect(error.message).to.match(message);
    }
    expect(server.requests).to.deep.equal([]);
  });

  it('redrive --status FAILED --since pages through FAILED machines, redrives the recent ones at --rate, and sums up', async () => {
    server.reply = (request) => {
      if (request.url === '/machines?status=FAILED&limit=100') {
        return {
          status: 200,
          body: {
            items: [summary('a', '2026-01-01T23:00:00.000Z'), summary('old', '2025-12-01T00:00:00.000Z')],
            nextToken: 'p2',
          },
        };
      }
      if (request.url.startsWith('/machines?')) {
        return {
          status: 200,
          body: { items: [summary('b', '2026-01-01T22:00:00.000Z'), summary('c', '2026-01-01T21:00:00.000Z')] },
        };
      }
      if (request.url === '/machines/b/redrive') {
        return { status: 409, body: { error: "machine 'b' is RUNNING, not FAILED", code: 'CONFLICT' } };
      }
      if (request.url === '/machines/c/redrive') return { status: 500, body: { error: 'internal error' } };
      return { status: 202, body: view({ id: 'a' }) };
    };
    const code = await redrive(context(), undefined, { status: 'failed', since: '6h', rate: '2' }, clock);
    expect(code).to.equal(1);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).to.deep.equal([
      'GET /machines?status=FAILED&limit=100',
      'GET /machines?status=FAILED&limit=100&nextToken=p2',
      'POST /machines/a/redrive',
      'POST /machines/b/redrive',
      'POST /machines/c/redrive',
    ]);
    expect(sleeps).to.deep.equal([500, 500]);
    expect(progress).to.deep.equal([
      'listing FAILED machines: 1 found',
      'listing FAILED machines: 3 found',
      'redriving: 1/3 (1 redriven)',
      'redriving: 2/3 (1 redriven)',
      'redriving: 3/3 (1 redriven)',
    ]);
    expect(out).to.deep.equal([
      [
        'redriven 1 of 3 FAILED machines, skipped 1, failed 1',
        "  skipped b: machine 'b' is RUNNING, not FAILED (HTTP 409)",
        '  failed  c: internal error',
      ].join('\n'),
    ]);
  });

  it('redrive --status FAILED prints the summary as JSON, and works without progress or --since', async () => {
    server.reply = (request) =>
      request.method === 'GET'
        ? { status: 200, body: { items: [summary('a', '2020-01-01T00:00:00.000Z')] } }
        : { status: 404, body: { error: "no machine with id 'a'", code: 'MACHINE_NOT_FOUND' } };
    const ctx = { ...context(true), progress: undefined };
    expect(await redrive(ctx, undefined, { status: 'FAILED' })).to.equal(0);
    expect(JSON.parse(out[0] as string)).to.deep.equal({
      found: 1,
      redriven: [],
      skipped: [{ id: 'a', reason: "no machine with id 'a' (HTTP 404)" }],
      failed: [],
    });
  });

  it('describes the new history events and a caught failure', () => {
    const at = '2026-01-01T00:00:00.000Z';
    expect(
      describeEvent({ seq: 1, at, outcome: 'caught', version: 2, from: 'A', to: 'B', attempt: 3, error: 'x' }),
    ).to.equal('v2 caught     A -> B  (attempt 3, error: x)');
    expect(
      describeEvent({ seq: 2, at, outcome: 'redriven', version: 4, from: 'B', to: 'B', error: 'x', by: 'ops' }),
    ).to.equal('v4 redriven   B -> B  (error: x, by ops)');
    expect(describeEvent({ seq: 3, at, outcome: 'woken', version: 4, from: 'B', attempt: 1 })).to.equal(
      'v4 woken      B  (attempt 1)',
    );
    const shown = describeMachine({
      ...view(),
      caught: { message: 'x', state: 'A', attempt: 3, at },
      config: {},
      options: { retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 }, retentionDays: 7 },
    } as never);
    expect(shown).to.include('caught    x (in A, attempt 3)');
  });

  it('parses --since as a time or a duration ago', () => {
    expect(parseSince('30m', NOW)).to.equal(NOW - 30 * 60_000);
    expect(parseSince('90s', NOW)).to.equal(NOW - 90_000);
    expect(parseSince('2d', NOW)).to.equal(NOW - 2 * 86_400_000);
    expect(parseSince('1h', NOW)).to.equal(NOW - 3_600_000);
    expect(parseSince('2026-01-01T12:00:00Z', NOW)).to.equal(Date.parse('2026-01-01T12:00:00Z'));
  });

  it('wake <id> posts to /wake and prints what it did', async () => {
    server.reply = () => ({ status: 202, body: view() });
    await wake(context(), 'm-1');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).to.deep.equal(['POST /machines/m-1/wake']);
    expect(out).to.deep.equal(['woke m-1 (state TASK-1: its step runs now instead of waiting)']);
  });

  it('list --status all asks for every status; a comma list is passed on', async () => {
    server.reply = () => ({ status: 200, body: { items: [] } });
    await list(context(), { status: 'all', all: false, limit: '5' });
    await list(context(), { status: 'FAILED,succeeded', all: false, limit: '5' });
    expect(server.requests.map((r) => decodeURIComponent(r.url))).to.deep.equal([
      '/machines?status=ALL&limit=5',
      '/machines?status=FAILED,SUCCEEDED&limit=5',
    ]);
  });

  it('the client sends a status array as a comma list', async () => {
    server.reply = () => ({ status: 200, body: { items: [] } });
    await new ApiClient({ endpoint: server.url }).listPage({ status: ['RUNNING', 'FAILED'] });
    expect(decodeURIComponent(server.requests[0]?.url ?? '')).to.equal('/machines?status=RUNNING,FAILED');
  });
});
