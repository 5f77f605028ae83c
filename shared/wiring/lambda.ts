/**
 * The Lambda side of the wiring: the middleware every handler runs in (Powertools logger and
 * metrics), and where a deployed handler's reports and GitHub's messages go.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { GitHubLog } from '../adapters/github/client.js';
import { powertoolsDeliveryMetrics } from '../observability/delivery-metrics.js';
import { logger, metrics, observability } from '../observability/index.js';
import { powertoolsReporter } from '../observability/reporter.js';
import type { DeliveryMetricsSink } from '../ports/delivery-metrics.js';
import type { Reporter } from '../ports/reporter.js';

export { logger, metrics };

/** Wraps a handler in the shared middleware: context in every log line, metrics flushed. */
export function lambdaHandler<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return middy(handler).use(observability());
}

/** Warnings and counts of a deployed handler: Powertools log lines and metrics. */
export function lambdaReporter(): Reporter {
  return powertoolsReporter(logger, metrics);
}

/** Octokit's own messages in a deployed handler: request lines at debug, rate-limit waits as warnings. */
export const lambdaGitHubLog: GitHubLog = {
  debug: (message) => logger.debug(message),
  info: (message) => logger.debug(message),
  warn: (message) => logger.warn(message),
  error: (message) => logger.debug(message),
};

/** A client's notice of a retry and its wait, in a deployed handler: a warning in its log. */
export const lambdaRetryNotice = (notice: string): void => logger.warn(notice);

/** A finished run's delivery metrics from a deployed handler: EMF lines with dimensions app and stage. */
export function lambdaDeliveryMetrics(): DeliveryMetricsSink {
  return powertoolsDeliveryMetrics(metrics);
}
