import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CountMetric, StepMetrics, TimingMetric } from '../../application/metrics';

/** The `service` dimension (and the namespace unless POWERTOOLS_METRICS_NAMESPACE says otherwise). */
export const SERVICE_NAME = 'serverless-statemachine';

/**
 * The metrics port on Powertools Metrics: buffered, written to stdout as CloudWatch Embedded
 * Metric Format lines by flush() (no API calls; CloudWatch Logs turns them into metrics).
 * Dimensions: service and stage only, so the number of metrics does not grow with machines.
 */
export class PowertoolsStepMetrics implements StepMetrics {
  constructor(readonly metrics: Metrics) {}

  count(metric: CountMetric, value = 1): void {
    this.metrics.addMetric(metric, MetricUnit.Count, value);
  }

  timing(metric: TimingMetric, milliseconds: number): void {
    this.metrics.addMetric(metric, MetricUnit.Milliseconds, milliseconds);
  }

  /** Writes what was recorded since the last flush; once per invocation, in the entry points. */
  flush(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}

export function createStepMetrics(env: Record<string, string | undefined> = process.env): PowertoolsStepMetrics {
  return new PowertoolsStepMetrics(
    new Metrics({
      namespace: env.POWERTOOLS_METRICS_NAMESPACE || SERVICE_NAME,
      serviceName: SERVICE_NAME,
      defaultDimensions: { stage: env.STAGE || 'local' },
    }),
  );
}
