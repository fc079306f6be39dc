import { randomUUID } from 'node:crypto';
import { createLambdaClient, LambdaStateInvoker } from './adapters/lambda/stateInvoker';
import { createSqsClient, SqsStepQueue } from './adapters/sqs/stepQueue';
import type { ApiDeps } from './application/ports';
import { invokeTimeoutMs, readConfig, type ServiceConfig } from './config';
import { buildStore } from './readWiring';

export interface Services extends ApiDeps {
  config: ServiceConfig;
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
  return {
    config,
    store: buildStore(config, metrics),
    queue: new SqsStepQueue(createSqsClient({ region, endpoint: config.endpoints.sqs, metrics }), config.queueUrl),
    invoker: new LambdaStateInvoker(
      createLambdaClient({ region, endpoint: config.endpoints.lambda, metrics, timeoutMs: invokeTimeoutMs(config) }),
    ),
    maxQueueDelaySeconds: config.maxQueueDelaySeconds,
    now: Date.now,
    newId: randomUUID,
  };
}
