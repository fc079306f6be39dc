import { createServer, type Server } from 'node:http';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import type { QueueDefinition } from '../src/cloudformation';
import { startSqsEventSource } from '../src/eventSource';
import { invocationsOf, MAX_RECURSIVE_INVOCATIONS, nextInvocation, TraceJournal } from '../src/lineage';
import type { InvocationRecord, LogRecord } from '../src/recorder';
import { close, freePort, listen, type Running } from '../src/servers';
import { createQueues, sqsClient, startSqs } from '../src/sqs';

const arns = { region: 'us-east-1', accountId: '000000000000' };
const FN_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-looper';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lineage (trace header)', () => {
  it('counts invocations per function along a chain, keeping the root and other functions', () => {
    const first = nextInvocation(undefined, FN_ARN);
    expect(invocationsOf(first, FN_ARN)).to.equal(1);
    const other = nextInvocation(first, 'arn:aws:lambda:us-east-1:000000000000:function:other');
    const second = nextInvocation(other, FN_ARN);
    expect(invocationsOf(second, FN_ARN)).to.equal(2);
    expect(invocationsOf(second, 'arn:aws:lambda:us-east-1:000000000000:function:other')).to.equal(1);
    expect(/Root=([^;]+)/.exec(second)?.[1]).to.equal(/Root=([^;]+)/.exec(first)?.[1]);
    expect(invocationsOf('Root=1-abc-def;Sampled=0', FN_ARN)).to.equal(0);
  });
});

/**
 * A function that sends a message to the queue that triggers it, through the SQS emulator with the
 * trace header it was invoked with (what the SDK does with _X_AMZN_TRACE_ID inside Lambda).
 */
describe('sqs event source: recursive loop detection', function () {
  this.timeout(30_000);
  let sqsServer: Running;
  let lambdaServer: Server;
  let lambdaUrl: string;
  let sqs: SQSClient;
  let urls: Record<string, string>;
  const traces = new TraceJournal();
  let records: LogRecord[] = [];
  let queueUrl = '';
  let invocations: { trace: string | undefined; attributeTrace: string | undefined; body: string }[] = [];
  const LAST = 25; // the function stops sending after this many messages

  before(async () => {
    sqsServer = await startSqs({ port: await freePort(), host: '127.0.0.1', ...arns, traces, eventSourceAgent: 'es' });
    // A queue pair per test: a stopped source's abandoned long poll may still take a message.
    urls = await createQueues(
      sqsServer.url,
      'us-east-1',
      ['Terminate', 'Allow'].flatMap((mode): QueueDefinition[] => [
        { logicalId: `Dead${mode}`, QueueName: `loop-dead-${mode}`, Attributes: {}, dependsOn: [] },
        {
          logicalId: `Loop${mode}`,
          QueueName: `loop-${mode}`,
          Attributes: {
            VisibilityTimeout: '1',
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:loop-dead-${mode}`,
              maxReceiveCount: 1,
            }),
          },
          dependsOn: [`Dead${mode}`],
        },
      ]),
    );
    sqs = sqsClient(sqsServer.url, 'us-east-1');
    lambdaServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', async () => {
        const trace = req.headers['x-amzn-trace-id'] as string | undefined;
        const [record] = (JSON.parse(body) as { Records: { body: string; attributes: Record<string, string> }[] })
          .Records;
        invocations.push({ trace, attributeTrace: record?.attributes.AWSTraceHeader, body: record?.body ?? '' });
        const n = Number(record?.body);
        if (n < LAST) {
          const send = new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: String(n + 1) });
          send.middlewareStack.add(
            (next) => async (args) => {
              (args.request as { headers: Record<string, string> }).headers['X-Amzn-Trace-Id'] = trace as string;
              return next(args);
            },
            { step: 'build' },
          );
          await sqs.send(send);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('null');
      });
    });
    const port = await freePort();
    await listen(lambdaServer, port, '127.0.0.1');
    lambdaUrl = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    sqs.destroy();
    await close(lambdaServer);
    await close(sqsServer.server);
  });

  const run = async (recursiveLoop: 'Allow' | 'Terminate') => {
    records = [];
    invocations = [];
    queueUrl = urls[`Loop${recursiveLoop}`] as string;
    const source = startSqsEventSource({
      region: 'us-east-1',
      sqsEndpoint: sqsServer.url,
      lambdaEndpoint: lambdaUrl,
      queueUrl,
      queueArn: `arn:aws:sqs:us-east-1:000000000000:loop-${recursiveLoop}`,
      functionKey: 'looper',
      functionName: 'svc-dev-looper',
      functionArn: FN_ARN,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      batchSize: 1,
      batchingWindowSeconds: 0,
      pollers: 1,
      reportBatchItemFailures: false,
      userAgent: 'es',
      recursiveLoop,
      traces,
      recorder: { record: (r) => records.push(r) },
    });
    const dead: string[] = [];
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '1' }));
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if (recursiveLoop === 'Allow' && invocations.length >= LAST) break;
        if (recursiveLoop === 'Terminate') {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: urls[`Dead${recursiveLoop}`], WaitTimeSeconds: 1 }),
          );
          dead.push(...Messages.map((m) => m.Body as string));
          if (dead.length > 0) break;
        } else await sleep(50);
      }
    } finally {
      await source.stop();
    }
    return { dead, stopped: records.filter((r): r is InvocationRecord => r.kind === 'invocation' && !!r.error) };
  };

  it(`without Allow: stops the chain at invocation ${MAX_RECURSIVE_INVOCATIONS + 1}, the message left to go to the DLQ`, async () => {
    const { dead, stopped } = await run('Terminate');
    expect(invocations).to.have.length(MAX_RECURSIVE_INVOCATIONS);
    expect(invocations.map((i) => invocationsOf(i.trace, FN_ARN))).to.deep.equal(
      Array.from({ length: MAX_RECURSIVE_INVOCATIONS }, (_, i) => i + 1),
    );
    // The function sees the message's AWSTraceHeader: the trace its sender was invoked with.
    expect(invocations[0]?.attributeTrace).to.equal(undefined);
    expect(invocationsOf(invocations[1]?.attributeTrace, FN_ARN)).to.equal(1);
    expect(dead).to.deep.equal([String(MAX_RECURSIVE_INVOCATIONS + 1)]);
    expect(stopped.length).to.be.at.least(1);
    expect(stopped[0]).to.include({ error: 'RecursiveInvocationStopped', hops: MAX_RECURSIVE_INVOCATIONS + 1 });
  });

  it('with recursiveLoop Allow: the chain goes on past 16 invocations', async () => {
    const { stopped } = await run('Allow');
    expect(invocations).to.have.length(LAST);
    expect(invocationsOf(invocations[LAST - 1]?.trace, FN_ARN)).to.equal(LAST);
    expect(stopped).to.deep.equal([]);
    const hops = records.filter((r): r is InvocationRecord => r.kind === 'invocation').map((r) => r.hops);
    expect(Math.max(...(hops as number[]))).to.equal(LAST);
  });
});
