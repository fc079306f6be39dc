import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { stepMetrics } from '../../adapters/metrics/powertoolsMetrics';
import { handleDeadLetter } from '../../application/handleDeadLetter';
import { parseStepMessage } from '../../application/stepProcessor';
import { logger } from '../../logger';
import { getServices } from '../../wiring';

const batch = new BatchProcessor(EventType.SQS);

/**
 * Consumer of the transition queue's dead-letter queue: fails each machine whose current step
 * SQS gave up on, so no machine waits forever for a message that will never come. The message's
 * id, body and receive count stay in the log and in the machine's `failed` event.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const services = getServices();
  const processRecord = async (record: SQSRecord) => {
    const message = parseStepMessage(record.body);
    if (!message) {
      logger.error('dead-lettered message that is not a step', {
        messageId: record.messageId,
        body: record.body.slice(0, 256),
      });
      return;
    }
    const outcome = await handleDeadLetter(services, message, services.config.maxReceiveCount);
    logger.warn('dead-lettered step', {
      id: message.id,
      version: message.version,
      attempt: message.attempt,
      messageId: record.messageId,
      outcome,
    });
  };
  try {
    return await processPartialResponse(event, processRecord, batch, { context });
  } finally {
    stepMetrics().flush();
  }
};
