import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import { AUTHORIZER_OVERRIDE, apiAuthLine, parseApiAuth, startHttpFront } from '../src/httpFront';
import { close, freePort, listen, type Running } from '../src/servers';
import { CREDENTIALS, signedRequest } from './signing';

describe('http front: SigV4 auth before the HTTP API', () => {
  let target: Server;
  let front: Running;
  const seen: { method: string; url: string; body: string }[] = [];
  const authorizers: (string | undefined)[] = [];
  const refused: string[] = [];

  before(async () => {
    // Stands for serverless-offline: echoes what reached it.
    target = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() });
        authorizers.push(req.headers[AUTHORIZER_OVERRIDE] as string | undefined);
        res.writeHead(201, { 'content-type': 'application/json', 'x-from': 'target' });
        res.end(JSON.stringify({ id: 'm-1' }));
      });
    });
    const targetPort = await freePort();
    await listen(target, targetPort, '127.0.0.1');
    front = await startHttpFront({
      port: await freePort(),
      host: '127.0.0.1',
      target: { host: '127.0.0.1', port: targetPort },
      region: 'us-east-1',
      accountId: '000000000000',
      credentials: CREDENTIALS,
      onRefused: (method, path, reason) => refused.push(`${method} ${path}: ${reason}`),
    });
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

describe('http front: settings', () => {
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
