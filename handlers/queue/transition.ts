import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { recordMetric } from '../aws/requestMetrics';
import { functionScope, readConfig } from '../config';
import { buildServices, logger, type Services } from '../services';
import { createStepProcessor, parseStepMessage } from './stepProcessor';

const batch = new BatchProcessor(EventType.SQS);
let services: Services | undefined;
let processStep: ReturnType<typeof createStepProcessor> | undefined;

function processor(context: Context) {
  if (!processStep) {
    services = buildServices(readConfig(), 'transition');
    const { config, store, queue, invoker } = services;
    processStep = createStepProcessor({
      store,
      queue,
      invoker,
      scope: functionScope(config, context.invokedFunctionArn),
      leaseSeconds: config.leaseSeconds,
      maxQueueDelaySeconds: config.maxQueueDelaySeconds,
      now: Date.now,
      newToken: randomUUID,
    });
  }
  return processStep;
}

/** SQS-triggered transition processor; failures are reported per message (partial batch response). */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const processStep = processor(context);
  const { metricsDir } = (services as Services).config;
  const started = Date.now();
  const processRecord = async (record: SQSRecord) => {
    const message = parseStepMessage(record.body);
    if (!message) {
      // Not from our producers and never processable: keep it out of the retry loop.
      logger.error('dropped a malformed step message', {
        messageId: record.messageId,
        body: record.body.slice(0, 256),
      });
      return;
    }
    const outcome = await processStep(message);
    logger.debug('step message processed', { ...message, outcome });
  };
  const response = await processPartialResponse(event, processRecord, batch, { context });
  if (metricsDir) {
    const durationMs = Date.now() - started;
    recordMetric(metricsDir, {
      source: 'transition',
      service: 'trigger',
      command: 'transition',
      messages: event.Records.length,
      durationMs,
    });
  }
  return response;
};
