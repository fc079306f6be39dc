import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { purgeHistory } from '../../application/removeMachine';
import { parsePurgeMessage, parseStepMessage } from '../../application/stepProcessor';
import { logger, stepMetrics } from '../../wiring/observability';
import { transitionProcessor } from '../../wiring/processor';
import { processBatch } from './partialBatch';

/** SQS-triggered transition processor; failures are reported per message (partial batch response). */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { services, processStep } = transitionProcessor(context.invokedFunctionArn);
  const budget = { remainingMs: () => context.getRemainingTimeInMillis() };
  const processRecord = async (record: SQSRecord) => {
    const purge = parsePurgeMessage(record.body);
    if (purge) {
      await purgeHistory(services, purge.purgeHistory);
      return;
    }
    const message = parseStepMessage(record.body);
    if (!message) {
      // Not from our producers and never processable: keep it out of the retry loop.
      logger.error('dropped a malformed step message', {
        messageId: record.messageId,
        body: record.body.slice(0, 256),
      });
      return;
    }
    await processStep(message, budget);
  };
  try {
    // The invocation's next-step sends go out together (SqsStepQueue).
    const tracked = (record: SQSRecord) => services.queue.track(() => processRecord(record));
    return await services.queue.batching(() => processBatch(event, context, tracked));
  } finally {
    stepMetrics().flush();
  }
};
