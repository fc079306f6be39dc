import { createServer } from 'node:net';
import { expect } from 'chai';
import { ApiClient, ApiError, ApiUnreachableError } from '../../../client/apiClient';
import { FakeServer } from './fakeServer';

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ApiClient', () => {
  let server: FakeServer;
  let api: ApiClient;

  beforeEach(async () => {
    server = await new FakeServer().start();
    api = new ApiClient({ endpoint: `${server.url}/` });
  });
  afterEach(() => server.stop());

  describe('send, the low-level call', () => {
    it('sends JSON bodies with their content type and returns status, parsed body, text and content type', async () => {
      server.reply = () => ({ status: 201, body: { id: 'm-1' } });
      const response = await api.send('POST', '/machines', { state: 'S' });
      expect(response).to.deep.equal({
        status: 201,
        body: { id: 'm-1' },
        text: '{"id":"m-1"}',
        contentType: 'application/json',
      });
      const [seen] = server.requests;
      expect(seen).to.include({ method: 'POST', url: '/machines', body: '{"state":"S"}' });
      expect(seen?.headers['content-type']).to.equal('application/json');
    });

    it('sends a string body as is (malformed JSON included) and no body or content type without one', async () => {
      await api.send('POST', '/machines', '{"state": ');
      await api.send('GET', '/machines');
      expect(server.requests.map((r) => r.body)).to.deep.equal(['{"state": ', '']);
      expect(server.requests[1]?.headers['content-type']).to.equal(undefined);
    });

    it('never throws for an error status, and parses only JSON answers', async () => {
      server.reply = (r) =>
        r.url === '/json' ? { status: 500, body: { error: 'internal error' } } : { status: 502, text: 'Bad Gateway' };
      expect(await api.send('GET', '/json')).to.include({ status: 500, text: '{"error":"internal error"}' });
      const text = await api.send('GET', '/text');
      expect(text).to.deep.equal({
        status: 502,
        body: undefined,
        text: 'Bad Gateway',
        contentType: 'text/plain; charset=utf-8',
      });
    });

    it('keeps a JSON content type with a body that is not JSON as text', async () => {
      server.reply = () => ({ status: 200, text: '{oops', contentType: 'application/json' });
      expect(await api.send('GET', '/x')).to.include({ body: undefined, text: '{oops' });
    });

    it('keeps the base path of the endpoint (an API Gateway stage)', async () => {
      await new ApiClient({ endpoint: `${server.url}/prod//` }).send('GET', '/machines');
      expect(server.requests[0]?.url).to.equal('/prod/machines');
    });

    it('runs every request through transformRequest, the one place to sign requests', async () => {
      const seen: string[] = [];
      const signing = new ApiClient({
        endpoint: server.url,
        transformRequest: (request) => {
          seen.push(`${request.method} ${request.url.pathname} ${request.body ?? ''}`);
          return { ...request, headers: { ...request.headers, authorization: 'AWS4-HMAC-SHA256 test' } };
        },
      });
      server.reply = (r) =>
        r.method === 'DELETE' ? { status: 204 } : { status: 200, body: { id: 'm 1', events: [] } };
      await signing.addMachine({ state: 'S' });
      await signing.history('m 1');
      await signing.deleteMachine('m 1');
      expect(seen).to.deep.equal([
        'POST /machines {"state":"S"}',
        'GET /machines/m%201/history ',
        'DELETE /machines/m%201 ',
      ]);
      expect(server.requests.map((r) => r.headers.authorization)).to.deep.equal(Array(3).fill('AWS4-HMAC-SHA256 test'));
    });

    it('uses an injected fetch', async () => {
      const calls: string[] = [];
      const fake = new ApiClient({
        endpoint: 'http://api.invalid',
        fetch: async (input, init) => {
          calls.push(`${init?.method} ${String(input)}`);
          return new Response('{"items":[]}', { status: 200, headers: { 'content-type': 'application/json' } });
        },
      });
      expect(await fake.listPage({ status: 'FAILED' })).to.deep.equal({ items: [] });
      expect(calls).to.deep.equal(['GET http://api.invalid/machines?status=FAILED']);
    });
  });

  describe('errors', () => {
    it('throws ApiError with the status, message, code and field details of a JSON error answer', async () => {
      const details = [{ path: 'state', message: 'required' }];
      server.reply = () => ({
        status: 400,
        body: { error: 'invalid machine definition', code: 'VALIDATION_FAILED', details },
      });
      const error = await api.addMachine({}).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ApiError);
      expect(error).to.include({ status: 400, message: 'invalid machine definition', code: 'VALIDATION_FAILED' });
      expect((error as ApiError).details).to.deep.equal(details);
    });

    it('keeps non-array details out of `details` but in `body`', async () => {
      const body = { error: "no machine with id 'x'", code: 'MACHINE_NOT_FOUND', details: { id: 'x' } };
      server.reply = () => ({ status: 404, body });
      const error = (await api.getMachine('x').catch((e: unknown) => e)) as ApiError;
      expect([error.status, error.code, error.details, error.body]).to.deep.equal([404, 'MACHINE_NOT_FOUND', [], body]);
    });

    it("uses API Gateway's own `message` when the answer has no `error` (403 of IAM auth, 429)", async () => {
      server.reply = () => ({ status: 403, body: { message: 'Missing Authentication Token' } });
      const error = (await api.getMachine('x').catch((e: unknown) => e)) as ApiError;
      expect(error).to.include({ status: 403, message: 'Missing Authentication Token', code: undefined });
    });

    it('names the status when the error answer is not JSON', async () => {
      server.reply = () => ({ status: 503, text: 'Service Unavailable' });
      const error = (await api.getMachine('x').catch((e: unknown) => e)) as ApiError;
      expect(error).to.include({ status: 503, message: 'HTTP 503', code: undefined, body: 'Service Unavailable' });
    });

    it('throws ApiError when a JSON route answers something else', async () => {
      server.reply = () => ({ status: 200, text: '<html>', contentType: 'text/html' });
      const error = (await api.getMachine('x').catch((e: unknown) => e)) as ApiError;
      expect(error).to.be.instanceOf(ApiError);
      expect(error.message).to.equal('expected JSON, got text/html');
    });

    it('throws ApiUnreachableError with the system error code when nothing listens', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const error = await new ApiClient({ endpoint }).send('GET', '/machines').catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ApiUnreachableError);
      expect(error).to.include({
        endpoint,
        reason: 'ECONNREFUSED',
        message: `cannot reach ${endpoint} (ECONNREFUSED)`,
      });
    });

    it('throws ApiUnreachableError when the answer takes longer than timeoutMs', async () => {
      server.reply = () => ({ status: 200, body: {}, delayMs: 500 });
      const slow = new ApiClient({ endpoint: server.url, timeoutMs: 50 });
      const error = (await slow.send('GET', '/machines').catch((e: unknown) => e)) as ApiUnreachableError;
      expect(error).to.be.instanceOf(ApiUnreachableError);
      expect(error.reason).to.match(/timeout/i);
    });
  });

  describe('routes', () => {
    it('maps each method to its route, encoding ids', async () => {
      server.reply = (r) => {
        if (r.url.endsWith('/diagram')) return { status: 200, text: 'stateDiagram-v2\n' };
        if (r.url.includes('/history')) return { status: 200, body: { id: 'a/b', events: [] } };
        if (r.method === 'DELETE')
          return r.url.includes('busy') ? { status: 202, body: { id: 'busy', removing: true } } : { status: 204 };
        return { status: 200, body: { id: 'a/b' } };
      };
      await api.getMachine('a/b');
      await api.history('a/b');
      expect(await api.diagram('a/b')).to.equal('stateDiagram-v2\n');
      await api.resume('a/b', { object: { ok: true }, state: 'T' });
      await api.resume('a/b');
      expect(await api.deleteMachine('a/b')).to.deep.equal({ id: 'a/b', removing: false });
      expect(await api.deleteMachine('busy')).to.deep.equal({ id: 'busy', removing: true });
      expect(server.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).to.deep.equal([
        'GET /machines/a%2Fb ',
        'GET /machines/a%2Fb/history ',
        'GET /machines/a%2Fb/diagram ',
        'POST /machines/a%2Fb/resume {"object":{"ok":true},"state":"T"}',
        'POST /machines/a%2Fb/resume {}',
        'DELETE /machines/a%2Fb ',
        'DELETE /machines/busy ',
      ]);
    });

    it('reads a whole history across its pages, and one page when asked', async () => {
      const at = '2026-01-01T00:00:00.000Z';
      server.reply = (r) =>
        r.url.includes('nextToken=t1')
          ? { status: 200, body: { id: 'm', events: [{ seq: 1, outcome: 'succeeded', at, version: 1 }] } }
          : {
              status: 200,
              body: { id: 'm', events: [{ seq: 0, outcome: 'created', at, version: 0 }], nextToken: 't1' },
            };
      expect((await api.history('m')).events.map((event) => event.seq)).to.deep.equal([0, 1]);
      expect((await api.historyPage('m', { limit: 1 })).nextToken).to.equal('t1');
      expect(server.requests.map((r) => r.url)).to.deep.equal([
        '/machines/m/history',
        '/machines/m/history?nextToken=t1',
        '/machines/m/history?limit=1',
      ]);
    });

    it('lists one page with only the query parameters given', async () => {
      server.reply = () => ({ status: 200, body: { items: [], nextToken: 't1' } });
      expect(await api.listPage()).to.deep.equal({ items: [], nextToken: 't1' });
      await api.listPage({ status: 'PARKED', limit: 5, nextToken: 'a+b/c=' });
      expect(server.requests.map((r) => r.url)).to.deep.equal([
        '/machines',
        '/machines?status=PARKED&limit=5&nextToken=a%2Bb%2Fc%3D',
      ]);
    });
  });

  describe('pagination', () => {
    const item = (id: string) => ({ id, state: 'S', status: 'FAILED', version: 1, createdAt: id, updatedAt: id });

    it('yields every page, following nextToken with the same status and limit until there is none', async () => {
      const pages: Record<string, unknown> = {
        '': { items: [item('c'), item('b')], nextToken: 'p2' },
        p2: { items: [item('a')], nextToken: 'p3' },
        p3: { items: [] },
      };
      server.reply = (r) => ({
        status: 200,
        body: pages[new URL(r.url, server.url).searchParams.get('nextToken') ?? ''],
      });
      const seen: string[][] = [];
      for await (const page of api.pages({ status: 'FAILED', limit: 2 })) seen.push(page.items.map((m) => m.id));
      expect(seen).to.deep.equal([['c', 'b'], ['a'], []]);
      expect(server.requests.map((r) => r.url)).to.deep.equal([
        '/machines?status=FAILED&limit=2',
        '/machines?status=FAILED&limit=2&nextToken=p2',
        '/machines?status=FAILED&limit=2&nextToken=p3',
      ]);
      expect((await api.listAll({ status: 'FAILED', limit: 2 })).map((m) => m.id)).to.deep.equal(['c', 'b', 'a']);
    });

    it('reads one page when there is no nextToken', async () => {
      server.reply = () => ({ status: 200, body: { items: [item('a')] } });
      expect((await api.listAll()).map((m) => m.id)).to.deep.equal(['a']);
      expect(server.requests).to.have.length(1);
    });

    it('stops, instead of looping forever, when the API repeats a nextToken', async () => {
      server.reply = () => ({ status: 200, body: { items: [], nextToken: 'same' } });
      const error = await api.listAll().catch((e: unknown) => e);
      expect((error as Error).message).to.match(/same nextToken twice/);
      expect(server.requests).to.have.length(2);
    });

    it('ends with the ApiError of a failing page', async () => {
      server.reply = (r) =>
        r.url.includes('nextToken')
          ? { status: 400, body: { error: 'invalid list query', details: [{ path: 'nextToken', message: 'bad' }] } }
          : { status: 200, body: { items: [item('a')], nextToken: 'x' } };
      const error = (await api.listAll().catch((e: unknown) => e)) as ApiError;
      expect([error.status, error.details[0]?.path]).to.deep.equal([400, 'nextToken']);
    });
  });
});
