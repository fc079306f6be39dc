import { expect } from 'chai';
import { buildAssets, pageWeight } from '../../../console/assets';
import { cookieName } from '../../../console/security';
import { type RunningConsole, startConsole } from '../../../console/server';
import { FakeServer } from '../client/fakeServer';

const summary = (id: string, status: string, createdAt: string) => ({
  id,
  status,
  state: 'S',
  version: 1,
  createdAt,
  updatedAt: createdAt,
});

const body = (response: Response): Promise<any> => response.json();

describe('the console server', function () {
  this.timeout(20_000);
  let api: FakeServer;
  let running: RunningConsole;
  let cookie: string;

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${running.origin}${path}`, { headers: { cookie, ...headers } });
  const post = (path: string, body: string) =>
    fetch(`${running.origin}${path}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body,
    });

  before(async () => {
    api = await new FakeServer().start();
    running = await startConsole({ endpoint: api.url, listCap: 3 });
    cookie = `${cookieName(running.port)}=${new URL(running.url).searchParams.get('token')}`;
  });
  after(async () => {
    await running.stop();
    await api.stop();
  });

  it('listens on 127.0.0.1 and hands out its page and assets, gzip-compressed when asked', async () => {
    expect(running.origin).to.equal(`http://127.0.0.1:${running.port}`);
    expect(running.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const page = await get('/machines/m-1');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
    expect(await page.text()).to.include('<script src="/assets/app.js" defer></script>');
    const script = await get('/assets/app.js');
    expect(script.headers.get('content-encoding')).to.equal('gzip');
    const etag = script.headers.get('etag') ?? '';
    expect((await get('/assets/app.js', { 'if-none-match': etag })).status).to.equal(304);
    expect((await get('/nothing')).status).to.equal(404);
  });

  it('keeps the first load (JS + CSS, gzip) far below 300 KB', async () => {
    const weight = pageWeight(await buildAssets());
    expect(weight.gzip)
      .to.be.greaterThan(1000)
      .and.below(300 * 1024);
  });

  it('counts, filters, searches and pages the machines of every status, newest first, up to the cap', async () => {
    api.reply = (request) => {
      const status = new URL(request.url, 'http://x').searchParams.get('status');
      if (status === 'RUNNING') {
        return { status: 200, body: { items: [summary('r-1', 'RUNNING', '2026-01-01T00:00:03Z')] } };
      }
      if (status === 'SUCCEEDED') {
        const items = ['1', '2', '3', '4'].map((n) => summary(`ok-${n}`, 'SUCCEEDED', `2026-01-01T00:00:0${n}Z`));
        return { status: 200, body: { items } };
      }
      if (request.url === '/machines/named-one') {
        return { status: 200, body: { ...summary('named-one', 'FAILED', '2025-01-01T00:00:00Z'), name: 'named-one' } };
      }
      if (request.url.startsWith('/machines/'))
        return { status: 404, body: { error: 'no', code: 'MACHINE_NOT_FOUND' } };
      return { status: 200, body: { items: [] } };
    };
    const overview = await body(await get('/api/overview?pageSize=2&page=2'));
    expect(overview.counts).to.deep.equal({ RUNNING: 1, PARKED: 0, SUCCEEDED: 3, FAILED: 0 });
    expect(overview.capped).to.deep.equal({ RUNNING: false, PARKED: false, SUCCEEDED: true, FAILED: false });
    expect(overview).to.include({ total: 4, page: 2, pageCount: 2, pageSize: 2 });
    expect(overview.items.map((m: { id: string }) => m.id)).to.deep.equal(['ok-2', 'ok-1']);

    const running1 = await body(await get('/api/overview?status=RUNNING'));
    expect(running1.items.map((m: { id: string }) => m.id)).to.deep.equal(['r-1']);
    const searched = await body(await get('/api/overview?q=OK-3'));
    expect(searched.items.map((m: { id: string }) => m.id)).to.deep.equal(['ok-3']);
    // Not in the lists (beyond the cap, or not loaded): an exact id is looked up.
    const looked = await body(await get('/api/overview?q=named-one'));
    expect(looked.items.map((m: { id: string }) => m.id)).to.deep.equal(['named-one']);
  });

  it('pages a machine’s history itself, the last page unless asked', async () => {
    const events = Array.from({ length: 30 }, (_, seq) => ({ seq, outcome: 'retry', at: 'x', version: 1 }));
    api.reply = (request) =>
      request.url.endsWith('/history')
        ? { status: 200, body: { id: 'm-1', events } }
        : { status: 200, body: summary('m-1', 'RUNNING', '2026-01-01T00:00:00Z') };
    const last = await body(await get('/api/machines/m-1'));
    expect(last.history).to.include({ total: 30, page: 2, pageCount: 2, pageSize: 25 });
    expect(last.history.events.map((e: { seq: number }) => e.seq)).to.deep.equal([25, 26, 27, 28, 29]);
    const first = await body(await get('/api/machines/m-1?historyPage=1&pageSize=10'));
    expect(first.history.events).to.have.length(10);
  });

  it('passes actions through with the API’s status and body, and names a missing redrive route', async () => {
    api.reply = (request) => {
      if (request.url === '/machines')
        return { status: 400, body: { error: 'bad', code: 'VALIDATION_FAILED', details: [] } };
      if (request.method === 'DELETE') return { status: 204 };
      if (request.url === '/machines/gone/redrive') return { status: 404, body: { code: 'MACHINE_NOT_FOUND' } };
      if (request.url.endsWith('/redrive')) return { status: 404, body: { message: 'Not Found' } };
      return { status: 202, body: { id: 'm-1', status: 'RUNNING' } };
    };
    const added = await post('/api/machines', '{ not json');
    expect(added.status).to.equal(400);
    expect(api.requests.at(-1)?.body).to.equal('{ not json');
    const deleted = await fetch(`${running.origin}/api/machines/m-1`, { method: 'DELETE', headers: { cookie } });
    expect(deleted.status).to.equal(204);
    expect((await post('/api/machines/m-1/resume', '{"state":"S"}')).status).to.equal(202);
    const noRoute = await post('/api/machines/m-1/redrive', '{}');
    expect(noRoute.status).to.equal(404);
    expect((await body(noRoute)).code).to.equal('ROUTE_NOT_FOUND');
    expect((await body(await post('/api/machines/gone/redrive', '{}'))).code).to.equal('MACHINE_NOT_FOUND');
  });

  it('answers 502 when the API cannot be reached', async () => {
    const orphan = await startConsole({ endpoint: 'http://127.0.0.1:1' });
    const orphanCookie = `${cookieName(orphan.port)}=${new URL(orphan.url).searchParams.get('token')}`;
    const answer = await fetch(`${orphan.origin}/api/machines/m-1`, { headers: { cookie: orphanCookie } });
    await orphan.stop();
    expect(answer.status).to.equal(502);
    expect((await body(answer)).code).to.equal('API_UNREACHABLE');
  });
});
