import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { stepMetrics } from '../../wiring/observability';

const batch = new BatchProcessor(EventType.SQS);

/**
 * A queue consumer's batch, each failed record reported to SQS (ReportBatchItemFailures) and
 * counted as RecordsFailed: Powertools throws, and Lambda counts an error, only when every record
 * of the batch failed, so the processor-errors alarm watches this count (docs/operating.md "Alarms").
 */
export function processBatch(
  event: SQSEvent,
  context: Context,
  processRecord: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> {
  const counted = async (record: SQSRecord) => {
    try {
      await processRecord(record);
    } catch (error) {
      stepMetrics().count('RecordsFailed');
      throw error;
    }
  };
  return processPartialResponse(event, counted, batch, { context });
}
