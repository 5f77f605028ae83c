/**
 * Powertools logger and metrics, created once per process, and the one middy stack every handler
 * uses. Outside Lambda metrics stay in memory, so the same handler runs unchanged in tests and in the
 * local engine.
 *
 * Tracing is Lambda's own (active tracing on every function: a segment per invocation, and the trace
 * header the AWS SDK passes on to Step Functions, SNS and SQS); the Powertools Tracer is not used.
 * Its X-Ray SDK (with semver and cls-hooked) was about 120 KB of every bundle and a good part of its
 * load time; what it added were subsegments per AWS and HTTP call. Every log line carries the
 * invocation's X-Ray trace id (Powertools Logger), so logs and traces still meet.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj } from '@middy/core';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'shiplane';

export const logger = new Logger({ serviceName });
/**
 * Metrics reports through our logger. An invocation that recorded no metric (a notification with
 * nothing to count) is normal here, so Powertools' "No application metrics to publish" warning is
 * demoted to debug instead of printing on every such invocation.
 */
const metricsLogger = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) =>
    message.startsWith('No application metrics to publish') ? logger.debug(message) : logger.warn(message),
  error: (message: string) => logger.error(message),
};

export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Shiplane',
  logger: metricsLogger,
});

/** The middlewares every handler gets, in order: context in logs, metrics flushed. */
export function observability(): MiddlewareObj[] {
  return [
    // Never the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: events carry task tokens and bodies.
    injectLambdaContext(logger, { resetKeys: true, logEvent: false }) as MiddlewareObj,
    logMetrics(metrics, { throwOnEmptyMetrics: false }) as MiddlewareObj,
  ];
}
