/** The reporter port (shared/ports/reporter.ts) over the Powertools logger and metrics. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Reporter } from '../ports/reporter.js';

/** A Reporter over Powertools. Attributes never carry secrets or request bodies. */
export function powertoolsReporter(logger: Logger, metrics: Metrics): Reporter {
  return {
    info: (message, attributes = {}) => logger.info(message, attributes),
    warn: (message, attributes = {}) => logger.warn(message, attributes),
    error: (message, attributes = {}) => logger.error(message, attributes),
    count: (metric) => metrics.addMetric(metric, MetricUnit.Count, 1),
  };
}
