import { randomUUID } from 'node:crypto';
import { createDocumentClient } from './adapters/dynamodb/client';
import { DynamoMachineStore } from './adapters/dynamodb/machineStore';
import { createLambdaClient, LambdaStateInvoker } from './adapters/lambda/stateInvoker';
import { stepMetrics } from './adapters/metrics/powertoolsMetrics';
import { createSqsClient, SqsStepQueue } from './adapters/sqs/stepQueue';
import type { ApiDeps } from './application/ports';
import { invokeTimeoutMs, readConfig, type ServiceConfig } from './config';

export interface Services extends ApiDeps {
  config: ServiceConfig;
}

let services: Services | undefined;

/**
 * The adapters, built once per container from the environment (clients reuse connections), with
 * the container's metrics buffer: an entry point that uses these flushes it per invocation.
 */
export function getServices(): Services {
  services ??= { ...buildServices(readConfig()), metrics: stepMetrics() };
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
    store: new DynamoMachineStore(dynamo, { machines: config.tableName, history: config.historyTableName }),
    queue: new SqsStepQueue(createSqsClient({ region, endpoint: config.endpoints.sqs, metrics }), config.queueUrl),
    invoker: new LambdaStateInvoker(
      createLambdaClient({ region, endpoint: config.endpoints.lambda, metrics, timeoutMs: invokeTimeoutMs(config) }),
    ),
    maxQueueDelaySeconds: config.maxQueueDelaySeconds,
    now: Date.now,
    newId: randomUUID,
  };
}
