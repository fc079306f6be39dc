import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { handleDeadLetter } from '../../application/handleDeadLetter';
import { purgeHistory } from '../../application/removeMachine';
import { parsePurgeMessage, parseStepMessage } from '../../application/stepProcessor';
import { logger, stepMetrics } from '../../wiring/observability';
import { getServices } from '../../wiring/services';
import { processBatch } from './partialBatch';

/**
 * Consumer of the transition queue's dead-letter queue: fails each machine whose current step
 * SQS gave up on, so no machine waits forever for a message that will never come. The message's
 * id, body and receive count stay in the log and in the machine's `failed` event. A history
 * purge SQS gave up on is done here instead (docs/design.md "Gaps"), not left to the TTL.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const services = getServices();
  const processRecord = async (record: SQSRecord) => {
    const purge = parsePurgeMessage(record.body);
    if (purge) {
      await purgeHistory(services, purge.purgeHistory);
      logger.warn('dead-lettered history purge done', { messageId: record.messageId, history: purge.purgeHistory });
      return;
    }
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
    return await processBatch(event, context, processRecord);
  } finally {
    stepMetrics().flush();
  }
};
