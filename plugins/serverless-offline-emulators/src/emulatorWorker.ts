import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { QueueDefinition } from './cloudformation';
import { createTables, startDynamoDb } from './dynamodb';
import { type EventSourceOptions, startSqsEventSource } from './eventSource';
import { TraceJournal } from './lineage';
import { QueueJournal, type SavedMessage } from './queueJournal';
import { jsonlRecorder } from './recorder';
import { close } from './servers';
import { createQueues, restoreQueues, startSqs } from './sqs';

/** What the plugin hands the emulator thread. */
export interface EmulatorConfig {
  host: string;
  region: string;
  accountId: string;
  ports: { dynamodb: number; sqs: number };
  /** dynalite's LevelDB folder, when persisting. */
  dynamoPath?: string;
  /** The queues' journal (src/queueJournal.ts), when persisting. */
  journalFile?: string;
  requestLog?: string;
  /** A test option: each batch of a BatchWriteItem / BatchGetItem comes back unprocessed this many times. */
  unprocessedTries?: number;
  tables: Record<string, unknown>[];
  queues: QueueDefinition[];
  eventSourceAgent: string;
}

export type EventSourceSpec = Omit<EventSourceOptions, 'recorder' | 'onError' | 'queueUrl' | 'traces'> & {
  queueName: string;
};

export type ToWorker = { type: 'startEventSources'; sources: EventSourceSpec[] } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; tables: string[]; queueUrls: Record<string, string>; restored: number }
  | { type: 'warning'; message: string }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

/**
 * The emulators, their tables and queues, and the SQS event sources, on a thread of their own in
 * the `sls` process: the functions run on the main thread, so the stack uses two cores.
 */
async function main(config: EmulatorConfig, port: NonNullable<typeof parentPort>) {
  const post = (message: FromWorker) => port.postMessage(message);
  const stoppers: (() => Promise<void>)[] = [];
  const recorder = config.requestLog ? jsonlRecorder(config.requestLog) : undefined;
  const arns = { region: config.region, accountId: config.accountId };
  const { host, region } = config;
  try {
    if (config.dynamoPath) await mkdir(config.dynamoPath, { recursive: true });
    const dynamodb = await startDynamoDb({
      port: config.ports.dynamodb,
      host,
      ...arns,
      ...(config.dynamoPath ? { path: config.dynamoPath } : {}),
      ...(recorder ? { recorder } : {}),
      ...(config.unprocessedTries ? { unprocessedTries: config.unprocessedTries } : {}),
      eventSourceAgent: config.eventSourceAgent,
    });
    stoppers.push(() => close(dynamodb.server));
    const tables = await createTables(dynamodb.url, region, config.tables);
    if (tables.missingIndexes.length > 0) {
      post({
        type: 'warning',
        message: `the persisted tables lack ${tables.missingIndexes.join(', ')} (added to resources since): queries of it fail until ${config.dynamoPath} is removed`,
      });
    }

    let journal: QueueJournal | undefined;
    let previous: SavedMessage[] = [];
    if (config.journalFile) {
      await mkdir(dirname(config.journalFile), { recursive: true });
      ({ journal, previous } = QueueJournal.open(config.journalFile, config.queues));
      stoppers.push(async () => journal?.close());
    }
    // The trace header each message was sent with, for the event sources' recursive loop detection.
    const traces = new TraceJournal();
    const sqs = await startSqs({
      port: config.ports.sqs,
      host,
      ...arns,
      ...(recorder ? { recorder } : {}),
      ...(journal ? { journal } : {}),
      traces,
      eventSourceAgent: config.eventSourceAgent,
    });
    stoppers.push(() => close(sqs.server));
    const byId = await createQueues(sqs.url, region, config.queues);
    const queueUrls = Object.fromEntries(config.queues.map((q) => [q.QueueName, byId[q.logicalId] as string]));
    let restored = 0;
    if (journal) {
      // Sent again, so journaled anew; the new journal then replaces the old (a crash before leaves the old).
      restored = await restoreQueues(sqs.url, region, queueUrls, previous);
      journal.restored();
    }

    port.on('message', async (message: ToWorker) => {
      if (message.type === 'startEventSources') {
        for (const { queueName, ...spec } of message.sources) {
          const queueUrl = queueUrls[queueName];
          if (!queueUrl) {
            post({
              type: 'warning',
              message: `${spec.functionKey}'s sqs event names ${queueName}, not a queue of this service: not polled`,
            });
            continue;
          }
          const source = startSqsEventSource({
            ...spec,
            queueUrl,
            traces,
            ...(recorder ? { recorder } : {}),
            onError: (error) => post({ type: 'warning', message: `event source: ${(error as Error).message}` }),
          });
          stoppers.push(() => source.stop());
        }
      } else if (message.type === 'stop') {
        for (const stopOne of stoppers.splice(0).reverse()) {
          await stopOne().catch((error: Error) =>
            post({ type: 'warning', message: `while stopping: ${error.message}` }),
          );
        }
        post({ type: 'stopped' });
      }
    });
    post({ type: 'ready', tables: [...tables.created, ...tables.kept], queueUrls, restored });
  } catch (error) {
    for (const stopOne of stoppers.splice(0).reverse()) await stopOne().catch(() => undefined);
    post({ type: 'failed', message: (error as Error).stack ?? String(error) });
  }
}

if (parentPort) void main(workerData as EmulatorConfig, parentPort);
