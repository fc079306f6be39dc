import { createServer, type IncomingMessage, type Server } from 'node:http';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { expect } from 'chai';
import { pollUntil } from '../../../client/poll';
import { MAX_SYNC_RESPONSE_BYTES, parseFunctionRef, resolveLocalFunction, startLambdaFront } from '../src/lambdaFront';
import { iamActionOf, type LogRecord } from '../src/recorder';
import { close, freePort, listen, type Running } from '../src/servers';

describe('lambda front: function references', () => {
  const names = new Set(['svc-dev-work']);

  it('parses every form Invoke accepts', () => {
    expect(parseFunctionRef('svc-dev-work')).to.deep.equal({ name: 'svc-dev-work' });
    expect(parseFunctionRef('svc-dev-work:$LATEST')).to.deep.equal({ name: 'svc-dev-work', qualifier: '$LATEST' });
    expect(parseFunctionRef('123456789012:function:svc-dev-work:live')).to.deep.equal({
      name: 'svc-dev-work',
      qualifier: 'live',
      accountId: '123456789012',
    });
    expect(parseFunctionRef('function:svc-dev-work')).to.deep.equal({ name: 'svc-dev-work' });
    expect(parseFunctionRef('arn:aws:lambda:us-east-1:000000000000:function:svc-dev-work:7')).to.deep.equal({
      name: 'svc-dev-work',
      qualifier: '7',
      region: 'us-east-1',
      accountId: '000000000000',
    });
    expect(parseFunctionRef('arn:aws:s3:::bucket')).to.equal(undefined);
  });

  it('resolves this service’s functions whatever the region, account or qualifier, and nothing else', () => {
    for (const ref of [
      'svc-dev-work',
      'svc-dev-work:$LATEST',
      'function:svc-dev-work:$LATEST',
      '000000000000:function:svc-dev-work',
      'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-work',
      'arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-work:prod',
    ]) {
      expect(resolveLocalFunction(ref, names), ref).to.equal('svc-dev-work');
    }
    expect(resolveLocalFunction('arn:aws:lambda:us-east-1:000000000000:function:other', names)).to.equal(undefined);
  });
});

describe('lambda front: forwarding', () => {
  let target: Server;
  let front: { server: Server; url: string };
  const seen: string[] = [];
  const records: LogRecord[] = [];

  before(async () => {
    target = createServer((req: IncomingMessage, res) => {
      seen.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    const targetPort = await freePort();
    await listen(target, targetPort, '127.0.0.1');
    front = await startLambdaFront({
      port: await freePort(),
      host: '127.0.0.1',
      target: { host: '127.0.0.1', port: targetPort },
      functionNames: new Set(['svc-dev-work']),
      region: 'us-east-1',
      accountId: '000000000000',
      recorder: { record: (r) => records.push(r) },
    });
  });

  after(async () => {
    await close(front.server);
    await close(target);
  });

  it('rewrites an ARN to the local name, forwards the call, and records who invoked what', async () => {
    const lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint: front.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      userAgentAppId: 'caller',
    });
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-work:$LATEST' }),
    );
    lambda.destroy();
    expect(new TextDecoder().decode(answer.Payload)).to.equal('{"ok":true}');
    expect(seen).to.deep.equal(['/2015-03-31/functions/svc-dev-work/invocations']);
    expect(records).to.have.length(1);
    expect(records[0]).to.include({
      kind: 'request',
      service: 'lambda',
      action: 'Invoke',
      function: 'caller',
      status: 200,
    });
    expect(records[0]).to.have.deep.property('resources', [
      'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-work:$LATEST',
    ]);
  });

  it('refuses an invoke from a web page (any Origin) 403, forwarding nothing', async () => {
    seen.length = 0;
    for (const method of ['OPTIONS', 'POST']) {
      const answer = await fetch(`${front.url}/2015-03-31/functions/svc-dev-work/invocations`, {
        method,
        headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
        ...(method === 'POST' ? { body: '{"pathParameters":{"id":"m-1"}}' } : {}),
      });
      expect(answer.status, method).to.equal(403);
      expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
      await answer.text();
    }
    expect(seen).to.deep.equal([]);
  });
});

describe('lambda front: the 6 MB limit of a synchronous response', () => {
  let target: Server;
  let front: { server: Server; url: string };

  before(async () => {
    // Answers a JSON string of exactly the length asked for in the event.
    target = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const { bytes } = JSON.parse(Buffer.concat(chunks).toString()) as { bytes: number };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify('x'.repeat(bytes - 2)));
      });
    });
    const targetPort = await freePort();
    await listen(target, targetPort, '127.0.0.1');
    front = await startLambdaFront({
      port: await freePort(),
      host: '127.0.0.1',
      target: { host: '127.0.0.1', port: targetPort },
      functionNames: new Set(['svc-dev-big']),
      region: 'us-east-1',
      accountId: '000000000000',
    });
  });

  after(async () => {
    await close(front.server);
    await close(target);
  });

  it('answers a result over 6 MB as Lambda does, a function error; one at the limit passes', async () => {
    const lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint: front.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const invoke = (bytes: number) =>
      lambda.send(new InvokeCommand({ FunctionName: 'svc-dev-big', Payload: JSON.stringify({ bytes }) }));
    const over = await invoke(MAX_SYNC_RESPONSE_BYTES + 1);
    const at = await invoke(MAX_SYNC_RESPONSE_BYTES);
    lambda.destroy();
    expect(over.FunctionError).to.equal('Unhandled');
    expect(JSON.parse(new TextDecoder().decode(over.Payload))).to.deep.equal({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size (${MAX_SYNC_RESPONSE_BYTES + 1} bytes) exceeded maximum allowed payload size (${MAX_SYNC_RESPONSE_BYTES} bytes).`,
    });
    expect(at.FunctionError).to.equal(undefined);
    expect(at.Payload?.length).to.equal(MAX_SYNC_RESPONSE_BYTES);
  });
});

describe('iamActionOf', () => {
  it('names the IAM action an operation needs, including the ones IAM authorizes under another name', () => {
    expect(iamActionOf('dynamodb', 'BatchWriteItem')).to.equal('dynamodb:BatchWriteItem');
    expect(iamActionOf('lambda', 'Invoke')).to.equal('lambda:InvokeFunction');
    expect(iamActionOf('sqs', 'SendMessageBatch')).to.equal('sqs:SendMessage');
    expect(iamActionOf('sqs', 'DeleteMessageBatch')).to.equal('sqs:DeleteMessage');
  });
});

describe('lambda front: emulated throttling (concurrency cap)', () => {
  let target: Server;
  let front: Running;
  const records: LogRecord[] = [];

  /** Answers the target holds back, so a burst overlaps however slowly the client sends it. */
  const held: Array<() => void> = [];
  const releaseHeld = () => {
    for (const answer of held.splice(0)) answer();
  };

  before(async () => {
    target = createServer((req, res) => {
      req.resume();
      req.on('end', () => held.push(() => res.end('{"ok":true}')));
    });
    const targetPort = await freePort();
    await listen(target, targetPort, '127.0.0.1');
    front = await startLambdaFront({
      port: await freePort(),
      host: '127.0.0.1',
      target: { host: '127.0.0.1', port: targetPort },
      functionNames: new Set(['svc-dev-work', 'svc-dev-free']),
      region: 'us-east-1',
      accountId: '000000000000',
      recorder: { record: (r) => records.push(r) },
      concurrency: (name) => (name === 'svc-dev-work' ? 2 : undefined),
    });
  });

  after(async () => {
    await close(front.server);
    await close(target);
  });

  it('answers invokes past the cap as Lambda does, so the SDK throws TooManyRequestsException; capacity comes back', async () => {
    const lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint: front.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
      userAgentAppId: 'caller',
    });
    const invoke = (name: string) =>
      lambda.send(new InvokeCommand({ FunctionName: name })).then(
        () => 'ok',
        (error: Error & { $metadata?: { httpStatusCode?: number }; Reason?: string }) =>
          `${error.name} ${error.$metadata?.httpStatusCode} ${error.Reason}`,
      );
    const throttled = () => records.filter((r) => r.kind === 'request' && r.status === 429);
    /** Waits until the front has refused and the target holds what `done` says. */
    const waitFor = (done: (seen: { throttled: number; held: number }) => boolean, what: string) =>
      pollUntil(async () => ({ throttled: throttled().length, held: held.length }), done, {
        timeoutMs: 10_000,
        intervalMs: 10,
        what,
      });
    const pendingBurst = Promise.all(Array.from({ length: 5 }, () => invoke('svc-dev-work')));
    // The two within the cap are held at the target; the other three must be refused meanwhile.
    await waitFor((seen) => seen.throttled === 3 && seen.held === 2, 'three throttles and two held invokes');
    releaseHeld();
    const burst = await pendingBurst;
    const pendingUncapped = Promise.all(Array.from({ length: 5 }, () => invoke('svc-dev-free')));
    await waitFor((seen) => seen.held === 5, 'five held invokes');
    releaseHeld();
    const uncapped = await pendingUncapped;
    const pendingAfter = invoke('arn:aws:lambda:us-east-1:000000000000:function:svc-dev-work');
    await waitFor((seen) => seen.held === 1, 'one held invoke');
    releaseHeld();
    const after = await pendingAfter;
    lambda.destroy();
    expect(burst.filter((r) => r === 'ok')).to.have.length(2);
    expect(burst.filter((r) => r !== 'ok')).to.deep.equal(
      Array(3).fill('TooManyRequestsException 429 ReservedFunctionConcurrentInvocationLimitExceeded'),
    );
    expect(uncapped).to.deep.equal(Array(5).fill('ok'));
    expect(after).to.equal('ok');
    const throttles = throttled();
    expect(throttles).to.have.length(3);
    expect(throttles[0]).to.include({ error: 'TooManyRequestsException', function: 'caller', action: 'Invoke' });
  });
});
