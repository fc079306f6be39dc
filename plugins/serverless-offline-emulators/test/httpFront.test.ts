import { createServer, type RequestListener, type Server } from 'node:http';
import { expect } from 'chai';
import {
  AUTHORIZER_OVERRIDE,
  apiAuthLine,
  bodyAsSent,
  FOREIGN_ORIGIN,
  type HttpFrontOptions,
  parseApiAuth,
  parseCorsOrigins,
  startHttpFront,
} from '../src/httpFront';
import { close, freePort, listen, type Running } from '../src/servers';
import { CREDENTIALS, signedRequest } from './signing';

/** A front with `options` before a server answering with `target`, which stands for serverless-offline. */
async function frontBefore(
  target: RequestListener,
  options: Pick<HttpFrontOptions, 'auth' | 'corsOrigins' | 'onRefused'>,
): Promise<{ target: Server; front: Running }> {
  const server = createServer(target);
  const targetPort = await freePort();
  await listen(server, targetPort, '127.0.0.1');
  const front = await startHttpFront({
    port: await freePort(),
    host: '127.0.0.1',
    target: { host: '127.0.0.1', port: targetPort },
    region: 'us-east-1',
    accountId: '000000000000',
    credentials: CREDENTIALS,
    ...options,
  });
  return { target: server, front };
}

describe('http front: SigV4 auth before the HTTP API', () => {
  let target: Server;
  let front: Running;
  const seen: { method: string; url: string; body: string }[] = [];
  const authorizers: (string | undefined)[] = [];
  const refused: string[] = [];

  before(async () => {
    // Echoes what reached it.
    ({ target, front } = await frontBefore(
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          seen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() });
          authorizers.push(req.headers[AUTHORIZER_OVERRIDE] as string | undefined);
          res.writeHead(201, { 'content-type': 'application/json', 'x-from': 'target' });
          res.end(JSON.stringify({ id: 'm-1' }));
        });
      },
      { auth: 'iam', onRefused: (method, path, reason) => refused.push(`${method} ${path}: ${reason}`) },
    ));
  });

  beforeEach(() => {
    seen.length = 0;
    authorizers.length = 0;
    refused.length = 0;
  });

  after(async () => {
    await close(front.server);
    await close(target);
  });

  /** Sends a request as signedRequest built it (or unsigned), through fetch as the API client does. */
  async function send(request: { method: string; url: string; headers: Record<string, string>; body?: string }) {
    const { host: _host, ...headers } = request.headers;
    const response = await fetch(`${front.url}${request.url}`, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it('answers an unsigned request 403 with a JSON message, and does not forward it', async () => {
    const answer = await send({ method: 'GET', url: '/machines?status=ALL', headers: {} });
    expect(answer).to.deep.equal({
      status: 403,
      type: 'application/json',
      body: { message: 'Missing Authentication Token' },
    });
    expect(seen).to.deep.equal([]);
    expect(refused).to.deep.equal(['GET /machines: Missing Authentication Token']);
  });

  it('answers a request signed with the wrong secret 403, and does not forward it', async () => {
    const request = await signedRequest(`${front.url}/machines`, { method: 'POST', body: '{}', secret: 'wrong' });
    const answer = await send(request);
    expect(answer.status).to.equal(403);
    expect(String(answer.body.message)).to.match(/signature we calculated does not match/);
    expect(Object.keys(answer.body)).to.deep.equal(['message']);
    expect(seen).to.deep.equal([]);
  });

  it('forwards a correctly signed request unchanged and streams the answer back', async () => {
    const body = JSON.stringify({ state: 'S', config: { S: 'noop' }, object: { é: 'ü' } });
    const request = await signedRequest(`${front.url}/machines?x=1&x=2`, { method: 'POST', body });
    const answer = await send(request);
    expect(answer).to.deep.equal({ status: 201, type: 'application/json', body: { id: 'm-1' } });
    expect(seen).to.deep.equal([{ method: 'POST', url: '/machines?x=1&x=2', body }]);
    expect(refused).to.deep.equal([]);
  });

  it("hands serverless-offline the caller's IAM context, as an AWS_IAM route's requestContext.authorizer, never the caller's own", async () => {
    const request = await signedRequest(`${front.url}/machines/m-1/redrive`, { method: 'POST', body: '{}' });
    const forged = JSON.stringify({ iam: { userArn: 'arn:aws:iam::000000000000:user/someone-else' } });
    // Not signed: the signature covers only the headers it names, as on AWS.
    await send({ ...request, headers: { ...request.headers, [AUTHORIZER_OVERRIDE]: forged } });
    expect(authorizers.map((header) => JSON.parse(header ?? 'null'))).to.deep.equal([
      {
        iam: {
          accessKey: CREDENTIALS.accessKeyId,
          accountId: '000000000000',
          callerId: CREDENTIALS.accessKeyId,
          principalOrgId: null,
          userArn: `arn:aws:iam::000000000000:user/${CREDENTIALS.accessKeyId}`,
          userId: CREDENTIALS.accessKeyId,
        },
      },
    ]);
  });

  it('refuses a signed request replayed to another path or with another body', async () => {
    const request = await signedRequest(`${front.url}/machines`, { method: 'POST', body: '{"a":1}' });
    expect((await send({ ...request, url: '/machines/x/redrive' })).status).to.equal(403);
    expect((await send({ ...request, body: '{"a":2}' })).status).to.equal(403);
    expect(seen).to.deep.equal([]);
  });
});

describe('http front: CORS as the deployed HTTP API has it (none), or for listed origins only', () => {
  let target: Server;
  let front: Running;
  const seen: string[] = [];
  const listed = 'http://localhost:5173';

  before(async () => {
    // As serverless-offline does, it reflects any Origin with credentials.
    ({ target, front } = await frontBefore(
      (req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.writeHead(200, {
          'content-type': 'application/json',
          'access-control-allow-origin': req.headers.origin ?? '*',
          'access-control-allow-credentials': 'true',
        });
        res.end('{"machines":[]}');
      },
      { auth: 'none', corsOrigins: [listed] },
    ));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  after(async () => {
    await close(front.server);
    await close(target);
  });

  const call = async (method: string, origin?: string) => {
    const response = await fetch(`${front.url}/machines/x`, {
      method,
      headers: { ...(origin ? { origin } : {}), 'access-control-request-method': 'DELETE' },
    });
    const cors = Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
    return { status: response.status, cors, body: await response.text() };
  };

  it('refuses every request of an origin nobody listed 403 with no CORS header, forwarding nothing', async () => {
    for (const method of ['OPTIONS', 'GET', 'POST', 'DELETE']) {
      expect(await call(method, 'http://evil.example'), method).to.deep.equal({
        status: 403,
        cors: {},
        body: JSON.stringify({ message: FOREIGN_ORIGIN }),
      });
    }
    expect(seen).to.deep.equal([]);
  });

  it("forwards a request without an Origin, dropping serverless-offline's CORS headers; a preflight of none is 404", async () => {
    expect(await call('GET')).to.deep.equal({ status: 200, cors: {}, body: '{"machines":[]}' });
    expect(await call('OPTIONS')).to.deep.equal({ status: 404, cors: {}, body: '{"message":"Not Found"}' });
    expect(seen).to.deep.equal(['GET /machines/x']);
  });

  it("answers a body over API Gateway's 10 MB 413, forwarding nothing", async () => {
    const response = await fetch(`${front.url}/machines`, { method: 'POST', body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(response.status).to.equal(413);
    expect(await response.json()).to.deep.equal({ message: 'Request Entity Too Large' });
    expect(seen).to.deep.equal([]);
  });

  it("answers a listed origin's preflight, and lets it read answers, without credentials", async () => {
    const preflight = await call('OPTIONS', listed);
    expect(preflight.status).to.equal(204);
    expect(preflight.cors).to.include({
      'access-control-allow-origin': listed,
      'access-control-allow-methods': 'GET,POST,DELETE',
    });
    expect(preflight.cors).not.to.have.property('access-control-allow-credentials');
    expect((await call('DELETE', listed)).cors).to.deep.equal({ 'access-control-allow-origin': listed });
    expect(seen).to.deep.equal(['DELETE /machines/x']);
  });
});

describe('http front: bodies as API Gateway hands them on', () => {
  const json = 'application/json';

  it('sends a JSON body that is not an object or array as a JSON string of itself, which parses back to it', () => {
    for (const text of ['null', 'false', '0', '5', 'true', '""', '"{\\"state\\":\\"S\\"}"', ' null ']) {
      for (const type of [json, 'Application/JSON; charset=utf-8', 'application/vnd.api+json', undefined]) {
        const sent = bodyAsSent(type, Buffer.from(text));
        expect(JSON.parse(sent.toString()), `${text} as ${type}`).to.equal(text);
      }
    }
  });

  it('sends objects, arrays, text that is not JSON, no body and other media types as they are', () => {
    for (const [type, text] of [
      [json, '{"state":"S"}'],
      [json, ' [1]'],
      [json, '{nope'],
      [json, 'nope'],
      [json, ''],
      ['text/plain', 'null'],
      ['application/octet-stream', '0'],
    ] as const) {
      const body = Buffer.from(text);
      expect(bodyAsSent(type, body), `${text} as ${type}`).to.equal(body);
    }
  });
});

describe('http front: settings', () => {
  it('takes CORS origins as a list or comma-separated, none by default', () => {
    expect(parseCorsOrigins(undefined)).to.deep.equal([]);
    expect(parseCorsOrigins('')).to.deep.equal([]);
    expect(parseCorsOrigins('http://a.test, http://b.test:8080')).to.deep.equal([
      'http://a.test',
      'http://b.test:8080',
    ]);
    expect(parseCorsOrigins(['http://a.test'])).to.deep.equal(['http://a.test']);
  });

  it('takes none (the default) or iam, and nothing else', () => {
    expect(parseApiAuth(undefined)).to.equal('none');
    expect(parseApiAuth('')).to.equal('none');
    expect(parseApiAuth('iam')).to.equal('iam');
    expect(() => parseApiAuth('jwt')).to.throw("apiAuth must be one of none, iam, not 'jwt'");
  });

  it('says in the banner whether the API is open or which signatures it requires', () => {
    expect(apiAuthLine('none', 'us-east-1', CREDENTIALS)).to.match(/^none: the API is open/);
    expect(apiAuthLine('iam', 'eu-west-1', CREDENTIALS)).to.equal(
      'IAM: SigV4 (execute-api, eu-west-1) of AWS_ACCESS_KEY_ID=AKIDLOCAL AWS_SECRET_ACCESS_KEY=local-secret; anything else gets 403',
    );
  });
});
