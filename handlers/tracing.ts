import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from './adapters/metrics/powertoolsMetrics';

/**
 * X-Ray through Powertools Tracer, on when the stage's `tracing` param is (POWERTOOLS_TRACE_ENABLED
 * and provider.tracing.lambda); off locally and outside Lambda, where it changes nothing.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** An AWS SDK v3 client whose calls appear as subsegments of the function's trace. */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}
