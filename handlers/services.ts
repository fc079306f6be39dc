import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, MachineStore } from './aws/dynamodb';
import { createLambdaClient, StateInvoker } from './aws/lambda';
import { createSqsClient, StepQueue } from './aws/sqs';
import { readConfig, type ServiceConfig } from './config';

export const logger = new Logger({ serviceName: 'serverless-statemachine' });

export interface Services {
  config: ServiceConfig;
  store: MachineStore;
  queue: StepQueue;
  invoker: StateInvoker;
}

let services: Services | undefined;

/** The adapters, built once per container from the environment (clients reuse connections). */
export function getServices(): Services {
  services ??= buildServices(readConfig());
  return services;
}

export function buildServices(config: ServiceConfig): Services {
  const dynamo = createDocumentClient({ region: config.region, endpoint: config.endpoints.dynamodb });
  return {
    config,
    store: new MachineStore(dynamo, { machines: config.tableName, history: config.historyTableName }),
    queue: new StepQueue(createSqsClient({ region: config.region, endpoint: config.endpoints.sqs }), config.queueUrl),
    invoker: new StateInvoker(
      createLambdaClient({
        region: config.region,
        endpoint: config.endpoints.lambda,
        // A step's invoke must end while its lease still holds, leaving time to commit.
        timeoutMs: config.leaseSeconds * 800,
      }),
    ),
  };
}
