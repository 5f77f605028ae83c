/**
 * How approvals and notifications report what went wrong without failing: a log line and a metric.
 * Handlers pass the Powertools logger and metrics; the shared code never imports them directly, so
 * tests can see exactly what was logged and counted.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export interface Reporter {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
  /** Adds 1 to a count metric (e.g. `SlackNotificationFailed`). */
  count(metric: string): void;
}

/** A Reporter over Powertools. Attributes never carry secrets or request bodies. */
export function powertoolsReporter(logger: Logger, metrics: Metrics): Reporter {
  return {
    info: (message, attributes = {}) => logger.info(message, attributes),
    warn: (message, attributes = {}) => logger.warn(message, attributes),
    error: (message, attributes = {}) => logger.error(message, attributes),
    count: (metric) => metrics.addMetric(metric, MetricUnit.Count, 1),
  };
}

/** What an error says, for a log line: its name, message and (for AWS / Slack) code. */
export function errorAttributes(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { code?: unknown }).code;
  return { error: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
