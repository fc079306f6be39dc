import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** One AWS request a function made, as the benchmark's cost model counts it. */
export interface RequestMetric {
  service: 'dynamodb' | 'sqs' | 'lambda' | 'trigger';
  command: string;
  /** DynamoDB capacity units the request consumed (read or write, as the command is). */
  capacityUnits?: number;
  /** Messages in an SQS-triggered invocation. */
  messages?: number;
  /** How long that invocation took, in milliseconds. */
  durationMs?: number;
  /** Who made the request (e.g. `transition`). */
  source?: string;
}

interface MiddlewareClient {
  middlewareStack: { add: (middleware: never, options: { step: 'initialize'; name: string }) => void };
}

/** Appends a metric to this process/thread's file in `dir` (benchmarks only: synchronous and simple). */
export function recordMetric(dir: string, metric: RequestMetric): void {
  appendFileSync(join(dir, `requests-${process.pid}-${threadId}.jsonl`), `${JSON.stringify(metric)}\n`);
}

/** Where to count requests, and as whose. */
export interface MetricsTarget {
  dir: string;
  source: string;
}

/**
 * Counts every command `client` sends (and, for DynamoDB, the capacity it consumed) into `dir`.
 * Only the benchmark turns this on (METRICS_DIR); deployed functions never do.
 */
export function countRequests(
  client: MiddlewareClient,
  service: RequestMetric['service'],
  target: MetricsTarget,
): void {
  const middleware =
    (
      next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
      context: { commandName?: string },
    ) =>
    async (args: { input: Record<string, unknown> }) => {
      if (service === 'dynamodb') args.input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const consumed = result.output.ConsumedCapacity as
        | { CapacityUnits?: number }
        | { CapacityUnits?: number }[]
        | undefined;
      const capacityUnits = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      recordMetric(target.dir, {
        source: target.source,
        service,
        command: (context.commandName ?? 'unknown').replace(/Command$/, ''),
        ...(service === 'dynamodb' ? { capacityUnits } : {}),
      });
      return result;
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'requestMetrics' });
}
