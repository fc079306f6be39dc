import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from './adapters/metrics/powertoolsMetrics';

export const logger = new Logger({ serviceName: SERVICE_NAME });
