import type { BatchResultErrorEntry, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { SqsStepQueue } from '../../handlers/adapters/sqs/stepQueue';

/** An SQS client that records each SendMessageBatch and answers as told. */
function recordingClient(answer: (entries: number) => { Failed?: BatchResultErrorEntry[] } | Error = () => ({})) {
  const requests: { Id?: string; MessageBody?: string; DelaySeconds?: number }[][] = [];
  const client = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      requests.push(entries.map(({ Id, MessageBody, DelaySeconds }) => ({ Id, MessageBody, DelaySeconds })));
      const result = answer(entries.length);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { client: client as unknown as SQSClient, requests };
}

const message = (n: number) => ({ message: { id: `m-${n}`, version: n, attempt: 1 }, delaySeconds: n });
const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => 'sent',
    (error: Error) => error.message,
  );
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A record's work as the processor does it: a read first, then its send; what became of the send. */
const recordSending = (queue: SqsStepQueue, n: number) =>
  queue.track(async () => {
    await later(1);
    return settled(queue.send(message(n)));
  });

/** One invocation's records, each sending one message: what became of each send. */
const invocationSending = (queue: SqsStepQueue, ns: number[]) =>
  queue.batching(() => Promise.all(ns.map((n) => recordSending(queue, n))));

describe('the transition queue (SendMessageBatch)', () => {
  it('sends at once when nothing is tracked (the API), the message and its delay as given', async () => {
    const { client, requests } = recordingClient();
    const queue = new SqsStepQueue(client, 'url', 60_000);
    await queue.send(message(3));
    expect(requests).to.deep.equal([[{ Id: '0', MessageBody: JSON.stringify(message(3).message), DelaySeconds: 3 }]]);
  });

  it('sends the messages of records in progress together once each of them waits on one', async () => {
    const { client, requests } = recordingClient();
    const queue = new SqsStepQueue(client, 'url', 60_000);
    const results = await queue.batching(() =>
      Promise.all(
        [1, 2, 3].map((n) =>
          queue.track(async () => {
            await later(n * 5);
            await queue.send(message(n));
            return n;
          }),
        ),
      ),
    );
    expect(results).to.deep.equal([1, 2, 3]);
    expect(requests.map((entries) => entries.map((entry) => entry.DelaySeconds))).to.deep.equal([[1, 2, 3]]);
  });

  it('does not hold sends back for a record that finished without one, nor past maxWaitMs for a slow one', async () => {
    const { client, requests } = recordingClient();
    const queue = new SqsStepQueue(client, 'url', 30);
    let slowDone = false;
    await queue.batching(async () => {
      const slow = queue.track(async () => {
        await later(300);
        slowDone = true;
      });
      const quiet = queue.track(async () => later(5));
      const started = Date.now();
      await queue.track(() => queue.send(message(1)));
      expect(Date.now() - started).to.be.below(250);
      expect(slowDone).to.equal(false);
      expect(requests).to.have.length(1);
      await Promise.all([slow, quiet]);
    });
  });

  it('sends at most 10 messages per request', async () => {
    const { client, requests } = recordingClient();
    const queue = new SqsStepQueue(client, 'url', 60_000);
    const outcomes = await invocationSending(
      queue,
      Array.from({ length: 12 }, (_, n) => n),
    );
    expect(outcomes).to.deep.equal(Array(12).fill('sent'));
    expect(requests.map((entries) => entries.length)).to.deep.equal([10, 2]);
  });

  it('fails only the sends SQS refused, and every send of a request that failed', async () => {
    const partly = recordingClient(() => ({ Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] }));
    const queue = new SqsStepQueue(partly.client, 'url', 60_000);
    const outcomes = await invocationSending(queue, [0, 1, 2]);
    expect(outcomes).to.deep.equal(['sent', 'SendMessageBatch entry failed: InternalError ', 'sent']);

    const down = recordingClient(() => new Error('connection reset'));
    const failing = new SqsStepQueue(down.client, 'url', 60_000);
    const both = await invocationSending(failing, [0, 1]);
    expect(both).to.deep.equal(['connection reset', 'connection reset']);
  });
  it("never puts one invocation's sends in another's request, even when both run at once in one process", async () => {
    const { client, requests } = recordingClient();
    const queue = new SqsStepQueue(client, 'url', 60_000);
    const [first, second] = await Promise.all([invocationSending(queue, [1, 2]), invocationSending(queue, [3, 4])]);
    expect([...first, ...second]).to.deep.equal(Array(4).fill('sent'));
    const delays = requests.map((entries) => entries.map((entry) => entry.DelaySeconds).sort());
    expect(delays).to.have.deep.members([
      [1, 2],
      [3, 4],
    ]);
  });

  it('sends at once what a record outside any invocation sends, even while an invocation waits', async () => {
    const { client, requests } = recordingClient();
    const queue = new SqsStepQueue(client, 'url', 60_000);
    let release = () => {};
    const busy = queue.batching(() =>
      Promise.all([queue.track(() => new Promise<void>((resolve) => (release = resolve))), recordSending(queue, 1)]),
    );
    await queue.track(() => queue.send(message(2)));
    expect(requests.map((entries) => entries.map((entry) => entry.DelaySeconds))).to.deep.equal([[2]]);
    release();
    await busy;
    expect(requests).to.have.length(2);
  });
});
