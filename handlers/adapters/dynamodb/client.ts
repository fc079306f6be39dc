import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { traced } from '../../tracing';
import { countRequests, type MetricsTarget } from '../requestMetrics';

export function createDocumentClient(options: {
  region: string;
  endpoint?: string;
  metrics?: MetricsTarget;
}): DynamoDBDocumentClient {
  const client = traced(new DynamoDBClient({ region: options.region, endpoint: options.endpoint }));
  if (options.metrics) countRequests(client, 'dynamodb', options.metrics);
  return DynamoDBDocumentClient.from(client, {
    // A plain object with a `constructor` key is data to store, not a class instance to refuse.
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}
