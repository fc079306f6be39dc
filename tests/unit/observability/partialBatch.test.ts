import type { SQSEvent } from 'aws-lambda';
import { expect } from 'chai';
import { processBatch } from '../../../handlers/entrypoints/queue/partialBatch';
import { stepMetrics } from '../../../handlers/wiring/observability';
import { summarizeEmf } from '../../../plugins/serverless-offline-emulators/src/emf';

describe('queue consumers: partial batch failures', () => {
  const event = (count: number) =>
    ({
      Records: Array.from({ length: count }, (_, i) => ({
        messageId: `m-${i}`,
        body: String(i),
        eventSource: 'aws:sqs',
      })),
    }) as unknown as SQSEvent;
  const context = { invokedFunctionArn: '', getRemainingTimeInMillis: () => 60_000 } as never;

  /** What the container's metrics buffer prints on flush. */
  function flushed(): ReturnType<typeof summarizeEmf> {
    const written: string[] = [];
    const metrics = stepMetrics();
    const powertools = metrics.metrics as unknown as { console: { log: (line: string) => void } };
    const console = powertools.console;
    powertools.console = { log: (line: string) => written.push(line) };
    try {
      metrics.flush();
    } finally {
      powertools.console = console;
    }
    return summarizeEmf(written);
  }

  it('reports each failed record to SQS and counts it as RecordsFailed, though the invocation succeeds', async () => {
    flushed();
    const response = await processBatch(event(10), context, async (record) => {
      if (Number(record.body) % 3 === 0) throw new Error(`record ${record.body} failed`);
    });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).to.deep.equal([
      'm-0',
      'm-3',
      'm-6',
      'm-9',
    ]);
    expect(flushed().metrics.RecordsFailed?.sum).to.equal(4);
  });

  it('counts nothing when every record succeeds', async () => {
    flushed();
    const response = await processBatch(event(3), context, async () => {});
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(flushed().metrics.RecordsFailed).to.equal(undefined);
  });
});
