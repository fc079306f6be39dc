import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { stepMetrics } from '../../adapters/metrics/powertoolsMetrics';
import { purgeHistory } from '../../application/removeMachine';
import { createStepProcessor, parsePurgeMessage, parseStepMessage } from '../../application/stepProcessor';
import { functionScope, readConfig } from '../../config';
import { logger } from '../../logger';
import { buildServices, type Services } from '../../wiring';
import { processBatch } from './partialBatch';

let built: { services: Services; processStep: ReturnType<typeof createStepProcessor> } | undefined;

function processor(context: Context) {
  if (!built) {
    const services = buildServices(readConfig());
    const { config } = services;
    const processStep = createStepProcessor({
      ...services,
      scope: functionScope(config, context.invokedFunctionArn),
      leaseSeconds: config.leaseSeconds,
      newToken: randomUUID,
      metrics: stepMetrics(),
      // One line per step: id, version, attempt, state, status, outcome; the object's size and keys at DEBUG only.
      logStep: (fields, debug) => {
        logger.info('step', { ...fields });
        if (debug) logger.debug('step object', { id: fields.id, version: fields.version, ...debug });
      },
    });
    built = { services, processStep };
  }
  return built;
}

/** SQS-triggered transition processor; failures are reported per message (partial batch response). */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { services, processStep } = processor(context);
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
