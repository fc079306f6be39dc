import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import type { QueueDefinition } from '../src/cloudformation';
import { QueueJournal, replay } from '../src/queueJournal';
import { close, freePort, type Running } from '../src/servers';
import { createQueues, restoreQueues, sqsClient, startSqs } from '../src/sqs';

const arns = { region: 'us-east-1', accountId: '000000000000' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const QUEUES: QueueDefinition[] = [
  { logicalId: 'Dead', QueueName: 'dead', Attributes: {}, dependsOn: [] },
  { logicalId: 'Work', QueueName: 'work', Attributes: { VisibilityTimeout: '30' }, dependsOn: ['Dead'] },
];

describe('sqs: the queue journal (--persist)', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'queue-journal-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** An emulator journaling to `file`, started as the emulator thread starts it. */
  async function journaled(
    file: string,
    options: { compactAfterBytes?: number } = {},
  ): Promise<{ sqs: Running; journal: QueueJournal; urls: Record<string, string> }> {
    const { journal, previous } = QueueJournal.open(file, QUEUES, options);
    const sqs = await startSqs({ port: await freePort(), host: '127.0.0.1', ...arns, journal, eventSourceAgent: 'x' });
    const byId = await createQueues(sqs.url, 'us-east-1', QUEUES);
    const urls = { work: byId.Work as string, dead: byId.Dead as string };
    await restoreQueues(sqs.url, 'us-east-1', urls, previous);
    journal.restored();
    return { sqs, journal, urls };
  }

  it('keeps what is still queued, each due when it was (in-flight ones at once), and sends it again after a restart', async () => {
    const file = join(dir, 'sqs-journal.jsonl');
    const first = await journaled(file);
    const client = sqsClient(first.sqs.url, 'us-east-1');
    const send = (body: string, DelaySeconds?: number) =>
      client.send(new SendMessageCommand({ QueueUrl: first.urls.work, MessageBody: body, DelaySeconds }));
    await send('dead', undefined).then(() =>
      client.send(new SendMessageCommand({ QueueUrl: first.urls.dead, MessageBody: 'poison' })),
    );
    await send('delayed', 6);
    await send('backed-off');
    await send('in-flight');
    await send('visible');
    const received = async () =>
      (
        await client.send(
          new ReceiveMessageCommand({ QueueUrl: first.urls.work, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        )
      ).Messages ?? [];
    const taken = await received(); // dead, backed-off, in-flight, visible: all in flight now
    const handle = (body: string) => taken.find((m) => m.Body === body)?.ReceiptHandle;
    await client.send(new DeleteMessageCommand({ QueueUrl: first.urls.work, ReceiptHandle: handle('dead') }));
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: first.urls.work,
        ReceiptHandle: handle('backed-off'),
        VisibilityTimeout: 6,
      }),
    );
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: first.urls.work,
        ReceiptHandle: handle('visible'),
        VisibilityTimeout: 0,
      }),
    );
    client.destroy();
    // No clean stop: the journal as it is on disk now is what a kill -9 would leave.
    const kept = [...replay(await readFile(file, 'utf8')).values()];
    await close(first.sqs.server);
    first.journal.close();
    const sentAt = Date.now();
    expect(kept.map((m) => `${m.queue}:${m.body}`).sort()).to.deep.equal([
      'dead:poison',
      'work:backed-off',
      'work:delayed',
      'work:in-flight',
      'work:visible',
    ]);
    for (const body of ['in-flight', 'visible']) {
      expect(kept.find((m) => m.body === body)?.visibleAt, body).to.be.below(sentAt);
    }
    for (const body of ['delayed', 'backed-off']) {
      expect(kept.find((m) => m.body === body)?.visibleAt, body).to.be.above(sentAt + 3000);
    }

    const second = await journaled(file);
    const next = sqsClient(second.sqs.url, 'us-east-1');
    try {
      const arrivals = new Map<string, number>();
      const deadline = Date.now() + 15_000;
      while (arrivals.size < 4 && Date.now() < deadline) {
        const { Messages = [] } = await next.send(
          new ReceiveMessageCommand({ QueueUrl: second.urls.work, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        for (const m of Messages) arrivals.set(m.Body as string, Date.now());
        await sleep(50);
      }
      expect([...arrivals.keys()].sort()).to.deep.equal(['backed-off', 'delayed', 'in-flight', 'visible']);
      for (const body of ['delayed', 'backed-off']) {
        const due = kept.find((m) => m.body === body)?.visibleAt as number;
        expect(arrivals.get(body), body).to.be.at.least(due - 1000); // DelaySeconds rounds up to whole seconds
      }
      for (const body of ['in-flight', 'visible']) {
        expect(arrivals.get(body), body).to.be.below(sentAt + 3000);
      }
      // The second start compacted the journal: one line per message it sent again.
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      expect(lines.length).to.be.at.least(5);
      expect([...replay(lines.join('\n')).values()].map((m) => m.body).sort()).to.include.members(['poison']);
    } finally {
      next.destroy();
      await close(second.sqs.server);
      second.journal.close();
    }
  });

  it('compacts itself while running to what is still queued, losing nothing sent since', async () => {
    const file = join(dir, 'sqs-journal.jsonl');
    const { sqs, journal, urls } = await journaled(file, { compactAfterBytes: 4096 });
    const client = sqsClient(sqs.url, 'us-east-1');
    try {
      for (let i = 0; i < 60; i++) {
        await client.send(new SendMessageCommand({ QueueUrl: urls.work, MessageBody: `m${i}` }));
        // Kept in flight for the whole test, so a slow run never receives a kept one again.
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: urls.work,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: 5,
            VisibilityTimeout: 600,
          }),
        );
        expect(Messages.map((m) => m.Body)).to.deep.equal([`m${i}`]);
        // every message but each tenth is done with
        if (i % 10 !== 0) {
          await client.send(
            new DeleteMessageCommand({ QueueUrl: urls.work, ReceiptHandle: Messages[0]?.ReceiptHandle }),
          );
        }
      }
      await client.send(new SendMessageCommand({ QueueUrl: urls.work, MessageBody: 'last' }));
      const text = await readFile(file, 'utf8');
      expect([...replay(text).values()].map((m) => m.body).sort()).to.deep.equal(
        ['m0', 'm10', 'm20', 'm30', 'm40', 'm50', 'last'].sort(),
      );
      // 60 sends and 54 deletes written; compacted, far fewer lines are left.
      expect(text.trim().split('\n').length).to.be.below(60);
    } finally {
      client.destroy();
      await close(sqs.server);
      journal.close();
    }
  });

  it('loses no acknowledged send when the process is killed with SIGKILL mid-send', async () => {
    const file = join(dir, 'sqs-journal.jsonl');
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'journaledSqs.ts'), file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const ready = await new Promise<{ url: string; queueUrl: string }>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
        child.once('exit', (code) => reject(new Error(`the emulator exited (${code})`)));
      });
      const client = sqsClient(ready.url, 'us-east-1');
      const acknowledged: string[] = [];
      let next = 0;
      let killed = false;
      // Eight senders at once; the kill lands while some sends are in flight.
      const sender = async () => {
        while (!killed) {
          const body = `m${next++}`;
          try {
            await client.send(new SendMessageCommand({ QueueUrl: ready.queueUrl, MessageBody: body }));
            acknowledged.push(body);
          } catch {
            return;
          }
          if (acknowledged.length === 300 && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, sender));
      client.destroy();
      await exited;
      expect(acknowledged.length).to.be.at.least(300);
      const journaled = new Set([...replay(await readFile(file, 'utf8')).values()].map((m) => m.body));
      expect(acknowledged.filter((body) => !journaled.has(body))).to.deep.equal([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
