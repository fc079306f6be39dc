import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EmulatorConfig, FromWorker, ToWorker } from './emulatorWorker';

export type EmulatorsReady = Extract<FromWorker, { type: 'ready' }>;

export interface EmulatorThread {
  /** Settles once DynamoDB and SQS are up, their tables and queues created (or the thread failed). */
  ready: Promise<EmulatorsReady>;
  post(message: ToWorker): void;
  /** Stops the event sources (letting running invocations finish), closes the thread (the queue journal synced). */
  stop(): Promise<void>;
}

/**
 * DynamoDB, SQS and the event sources, on a thread of their own (see emulatorWorker.ts). `stop`
 * is usable at once, so a start that fails half-way can still be stopped.
 */
export function startEmulatorThread(config: EmulatorConfig, warn: (message: string) => void): EmulatorThread {
  const worker = new Worker(join(__dirname, '..', 'emulatorWorker.js'), { workerData: config });
  let stopped: () => void = () => undefined;
  let gone = false;
  const ready = new Promise<EmulatorsReady>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the emulator thread exited (${code})`)));
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'failed') reject(new Error(message.message));
      else if (message.type === 'warning') warn(message.message);
      else if (message.type === 'stopped') stopped();
    });
  });
  return {
    ready,
    post: (message) => {
      if (!gone) worker.postMessage(message);
    },
    // First when stopping: the event sources let running invocations finish while the functions,
    // the Lambda front and the emulators are all still up.
    stop: async () => {
      if (gone) return;
      gone = true;
      if (worker.threadId === -1) return; // already gone (it failed to start)
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
        worker.once('exit', () => resolve());
        setTimeout(() => resolve(), 20_000).unref();
      });
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await done;
      await worker.terminate();
    },
  };
}
