import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledMessage } from '../../../domain/machine';
import type { StepQueue } from '../../application/ports';
import { traced } from '../../tracing';

/** The transition queue in SQS: one message per step to run, `{ id, version, attempt }`. */
export class SqsStepQueue implements StepQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send({ message, delaySeconds }: ScheduledMessage): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: delaySeconds,
      }),
    );
  }
}

export function createSqsClient(options: { region: string; endpoint?: string }): SQSClient {
  return traced(new SQSClient({ region: options.region, endpoint: options.endpoint }));
}
