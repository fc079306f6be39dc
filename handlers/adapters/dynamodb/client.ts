import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { traced } from '../../tracing';

export function createDocumentClient(options: { region: string; endpoint?: string }): DynamoDBDocumentClient {
  const client = traced(new DynamoDBClient({ region: options.region, endpoint: options.endpoint }));
  return DynamoDBDocumentClient.from(client, {
    // A plain object with a `constructor` key is data to store, not a class instance to refuse.
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}
