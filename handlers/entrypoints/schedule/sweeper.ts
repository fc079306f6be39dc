import { sweepOverdue } from '../../application/sweepOverdue';
import { logger, stepMetrics } from '../../wiring/observability';
import { getServices } from '../../wiring/services';

/**
 * Scheduled (serverless.yml `sweeper`): sends the current step again of every RUNNING machine
 * overdue by more than SWEEP_AFTER_SECONDS with nobody on it, its message lost
 * (docs/design.md "Lost messages"). Each one is counted in OverdueStepsResent, which alarms.
 */
export const handler = async (): Promise<{ candidates: number; resent: number }> => {
  const services = getServices();
  try {
    const swept = await sweepOverdue(services, services.config.sweepAfterSeconds * 1000);
    if (swept.resent > 0) logger.warn('re-sent the steps of overdue machines', swept);
    else logger.info('no overdue machine', swept);
    return swept;
  } finally {
    stepMetrics().flush();
  }
};
