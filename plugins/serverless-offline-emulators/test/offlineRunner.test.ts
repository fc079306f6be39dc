import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { correctOfflineRunner, forgetBundles, patch } from '../src/offlineRunner';

class LambdaTimeoutError extends Error {}

/** serverless-offline's LambdaFunction as far as the patch uses it. */
function fakeLambdaFunction(outcome: () => Promise<unknown>) {
  const cleanups: string[] = [];
  class LambdaFunction {
    status = 'IDLE';
    constructor(readonly name: string) {}
    setEvent(_event: unknown) {}
    async runHandler() {
      this.status = 'BUSY';
      try {
        return await outcome();
      } finally {
        this.status = 'IDLE';
      }
    }
    async cleanup() {
      cleanups.push(this.name);
    }
  }
  patch(LambdaFunction);
  return { LambdaFunction, cleanups };
}

const httpEvent = { version: '2.0', routeKey: 'POST /machines', requestContext: { http: { method: 'POST' } } };

describe('offlineRunner: how serverless-offline runs a function', () => {
  it('answers an HTTP API function that timed out 503, one that failed 500, never 200', async () => {
    const timedOut = fakeLambdaFunction(() => Promise.reject(new LambdaTimeoutError('[504] - Lambda timeout.')));
    const fn = new timedOut.LambdaFunction('addMachine');
    fn.setEvent(httpEvent);
    expect(await fn.runHandler()).to.deep.equal({
      statusCode: 503,
      headers: { 'content-type': 'application/json' },
      body: '{"message":"Service Unavailable"}',
    });
    const failed = fakeLambdaFunction(() => Promise.reject(new Error('boom')));
    const other = new failed.LambdaFunction('addMachine');
    other.setEvent(httpEvent);
    expect(await other.runHandler()).to.include({ statusCode: 500, body: '{"message":"Internal Server Error"}' });
  });

  it('leaves the failure of an invoke (not an HTTP event) to Lambda’s own answer', async () => {
    const { LambdaFunction } = fakeLambdaFunction(() =>
      Promise.reject(new LambdaTimeoutError('[504] - Lambda timeout.')),
    );
    const fn = new LambdaFunction('transition');
    fn.setEvent({ Records: [] });
    let error: unknown;
    await fn.runHandler().catch((e) => {
      error = e;
    });
    expect(error).to.be.instanceOf(LambdaTimeoutError);
  });

  it('retires a running instance after its invocation instead of terminating it mid-run', async () => {
    let finish: (value: unknown) => void = () => {};
    const { LambdaFunction, cleanups } = fakeLambdaFunction(() => new Promise((resolve) => (finish = resolve)));
    const busy = new LambdaFunction('busy');
    const idle = new LambdaFunction('idle');
    busy.setEvent({});
    const running = busy.runHandler();
    await Promise.all([busy.cleanup(), idle.cleanup()]);
    expect(cleanups).to.deep.equal(['idle']);
    finish({ ok: true });
    expect(await running).to.deep.equal({ ok: true });
    expect(cleanups).to.deep.equal(['idle', 'busy']);
  });

  it('patches serverless-offline’s own LambdaFunction once', async () => {
    await correctOfflineRunner();
    await correctOfflineRunner();
  });

  it('forgets the bundles of the build folder, so the main thread loads a rebuilt one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bundles-'));
    try {
      const bundle = join(dir, 'handler.js');
      await writeFile(bundle, 'module.exports = { answer: 1 };');
      expect(require(bundle).answer).to.equal(1);
      await writeFile(bundle, 'module.exports = { answer: 2 };');
      expect(require(bundle).answer).to.equal(1);
      expect(forgetBundles(dir)).to.deep.equal([bundle]);
      expect(require(bundle).answer).to.equal(2);
      expect(forgetBundles(undefined)).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
