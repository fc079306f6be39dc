import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** `traced` wraps the low-level client: the composition root's tracing (handlers/wiring/observability.ts). */
export function createDocumentClient(options: {
  region: string;
  endpoint?: string;
  traced: <T>(client: T) => T;
}): DynamoDBDocumentClient {
  const client = options.traced(new DynamoDBClient({ region: options.region, endpoint: options.endpoint }));
  return DynamoDBDocumentClient.from(client, {
    // A plain object with a `constructor` key is data to store, not a class instance to refuse.
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}
