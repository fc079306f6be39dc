import { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { createStepMetrics, type PowertoolsStepMetrics, SERVICE_NAME } from '../adapters/metrics/powertoolsMetrics';

/** The container's logger (Powertools Logger: JSON lines). */
export const logger = new Logger({ serviceName: SERVICE_NAME });

let sharedMetrics: PowertoolsStepMetrics | undefined;

/** The container's one metrics buffer: an entry point that records into it flushes it per invocation. */
export function stepMetrics(): PowertoolsStepMetrics {
  sharedMetrics ??= createStepMetrics();
  return sharedMetrics;
}

/**
 * X-Ray through Powertools Tracer, on when the stage's `tracing` param is (POWERTOOLS_TRACE_ENABLED
 * and provider.tracing.lambda); off locally and outside Lambda, where it changes nothing.
 *
 * Loaded only when on: the X-Ray SDK installs an async hook (cls-hooked) as it loads, which then
 * runs on every promise of the process whether or not tracing is enabled. In Lambda that is one
 * hook per function; locally every handler bundle shares one process and added its own, which
 * halved the local stack's throughput.
 */
let tracer: Tracer | undefined;

function tracingOn(): boolean {
  return process.env.POWERTOOLS_TRACE_ENABLED === 'true';
}

/** An AWS SDK v3 client whose calls appear as subsegments of the function's trace. */
export function traced<T>(client: T): T {
  if (!tracingOn()) return client;
  if (!tracer) {
    // A require, not an import: the module (and its hook) must not load when tracing is off.
    const { Tracer: PowertoolsTracer } =
      require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
    tracer = new PowertoolsTracer({ serviceName: SERVICE_NAME });
  }
  return tracer.captureAWSv3Client(client);
}
