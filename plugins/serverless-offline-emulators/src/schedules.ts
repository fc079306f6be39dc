import { randomUUID } from 'node:crypto';

/**
 * serverless-offline runs `schedule` events on their schedule (minutes apart); this invokes a
 * scheduled function once at the start too, as EventBridge Scheduler does (an event,
 * asynchronously), so what a schedule does after a crash happens at the restart, not a period
 * later. A failure is a warning.
 */
export async function invokeScheduled(
  lambdaUrl: string,
  functionName: string,
  arns: { region: string; accountId: string },
  warn: (message: string) => void,
): Promise<void> {
  const event = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: arns.accountId,
    time: new Date().toISOString(),
    region: arns.region,
    resources: [],
    detail: {},
  };
  try {
    const response = await fetch(`${lambdaUrl}/2015-03-31/functions/${functionName}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    const body = await response.text();
    if (!response.ok || response.headers.get('x-amz-function-error')) {
      warn(`scheduled ${functionName} failed at start: ${body.slice(0, 500)}`);
    }
  } catch (error) {
    warn(`scheduled ${functionName} failed at start: ${(error as Error).message}`);
  }
}
