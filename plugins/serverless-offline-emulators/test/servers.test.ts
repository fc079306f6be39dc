import { createServer, get, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import { close, forwardingAgent, freePort, listen } from '../src/servers';

describe('forwardingAgent', () => {
  it("closes an idle socket itself before a Node server's default keep-alive (5 s) can close it under a reuse, and never cuts a longer request", async function () {
    this.timeout(15_000);
    // Stands for serverless-offline's servers: Node's default keep-alive; answers after `/<ms>`.
    const target = createServer((req, res) => {
      setTimeout(() => res.end('done'), Number(req.url?.slice(1)));
    });
    expect(target.keepAliveTimeout).to.equal(5_000);
    const port = await freePort();
    await listen(target, port, '127.0.0.1');
    const agent = forwardingAgent();
    const ask = (ms: number) =>
      new Promise<{ body: string; socket: Socket; endedAt: number }>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: `/${ms}`, agent }, (answer: IncomingMessage) => {
          // Taken now: the agent takes the socket back when the answer ends.
          const socket = answer.socket;
          let body = '';
          answer.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          answer.on('end', () => resolve({ body, socket, endedAt: Date.now() }));
        }).on('error', reject);
      });
    try {
      const [quick, slow] = await Promise.all([
        ask(0).then(async (answer) => {
          const closedAt = await new Promise<number>((resolve) =>
            answer.socket.once('close', () => resolve(Date.now())),
          );
          return { ...answer, idleMs: closedAt - answer.endedAt };
        }),
        ask(4_500),
      ]);
      expect(quick.body).to.equal('done');
      expect(quick.idleMs).to.be.within(3_900, 4_900);
      expect(slow.body).to.equal('done');
    } finally {
      agent.destroy();
      await close(target);
    }
  });
});
