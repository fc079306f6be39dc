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

/** `countRequestsAs` labels this caller's AWS requests for the benchmark (only when METRICS_DIR is set). */
export function buildServices(config: ServiceConfig, countRequestsAs?: string): Services {
  const { region } = config;
  const metrics =
    config.metricsDir && countRequestsAs ? { dir: config.metricsDir, source: countRequestsAs } : undefined;
  const dynamo = createDocumentClient({ region, endpoint: config.endpoints.dynamodb, metrics });
  return {
    config,
    store: new MachineStore(dynamo, { machines: config.tableName, history: config.historyTableName }),
    queue: new StepQueue(createSqsClient({ region, endpoint: config.endpoints.sqs, metrics }), config.queueUrl),
    invoker: new StateInvoker(
      createLambdaClient({
        region,
        endpoint: config.endpoints.lambda,
        metrics,
        // A step's invoke must end while its lease still holds, leaving time to commit.
        timeoutMs: config.leaseSeconds * 800,
      }),
    ),
  };
}
