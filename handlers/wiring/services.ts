import { randomUUID } from 'node:crypto';
import { invokeTimeoutMs } from '../../domain/limits';
import { createLambdaClient, LambdaStateInvoker } from '../adapters/lambda/stateInvoker';
import { createSqsClient, SqsStepQueue } from '../adapters/sqs/stepQueue';
import type { ApiDeps } from '../application/ports';
import { readConfig, type ServiceConfig } from './config';
import { stepMetrics, traced } from './observability';
import { buildStore } from './read';

export interface Services extends ApiDeps {
  config: ServiceConfig;
  /** The transition queue; the transition processor batches the sends of a batch of records. */
  queue: SqsStepQueue;
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

export function buildServices(config: ServiceConfig): Services {
  const { region } = config;
  return {
    config,
    store: buildStore(config),
    queue: new SqsStepQueue(traced(createSqsClient({ region, endpoint: config.endpoints.sqs })), config.queueUrl),
    invoker: new LambdaStateInvoker(
      traced(
        createLambdaClient({
          region,
          endpoint: config.endpoints.lambda,
          timeoutMs: invokeTimeoutMs(config.leaseSeconds),
        }),
      ),
    ),
    maxQueueDelaySeconds: config.maxQueueDelaySeconds,
    now: Date.now,
    newId: randomUUID,
  };
}
