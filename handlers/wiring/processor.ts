import { randomUUID } from 'node:crypto';
import { createStepProcessor } from '../application/stepProcessor';
import { functionScope, readConfig } from './config';
import { logger, stepMetrics } from './observability';
import { buildServices, type Services } from './services';

export interface TransitionProcessor {
  services: Services;
  processStep: ReturnType<typeof createStepProcessor>;
}

let built: TransitionProcessor | undefined;

/**
 * The transition processor and its adapters, built once per container; the allow-list scope
 * takes account, region and partition from the running function's ARN (config.ts `functionScope`).
 */
export function transitionProcessor(invokedFunctionArn: string): TransitionProcessor {
  if (!built) {
    const services = buildServices(readConfig());
    const { config } = services;
    const processStep = createStepProcessor({
      ...services,
      scope: functionScope(config, invokedFunctionArn),
      leaseSeconds: config.leaseSeconds,
      newToken: randomUUID,
      metrics: stepMetrics(),
      // One line per step: id, version, attempt, state, status, outcome; the object's size and keys at DEBUG only.
      logStep: (fields, debug) => {
        logger.info('step', { ...fields });
        if (debug) logger.debug('step object', { id: fields.id, version: fields.version, ...debug });
      },
    });
    built = { services, processStep };
  }
  return built;
}
