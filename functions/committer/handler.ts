/**
 * committer: consumes the FIFO commit queue. Each batch (up to ten messages; one message group per
 * repository#branch) becomes one commit per branch; each waiting run is answered through its task
 * token. Malformed messages and GitHub outages are reported as batch item failures so SQS
 * redelivers them (then the DLQ); nothing is half-written. An image change is written only for a run
 * that is RUNNING, promotes that release (DescribeExecution) and waits for exactly that change (its
 * pending commit task in GetExecutionHistory, same task token); others are refused and alerted (the
 * ChangesRefused and CommitRequestsInvalid metrics, which the stack alarms on to the alert topic).
 * Every wait fits in the function's remaining time and the waiting run's task timeout.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { InvalidInputError } from '../../shared/errors.js';
import { processCommitQueue, type QueueLog } from '../../shared/steps/commit/process-commit-queue.js';
import {
  COMMITTER_MARGIN_MS,
  type CommitterDeps,
  committerRepositories,
  deployedCommitter,
} from '../../shared/wiring/committer.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger, metrics } from '../../shared/wiring/lambda.js';

export type { CommitterDeps };

const queueLog: QueueLog = {
  info: (message, attributes) => logger.info(message, { ...attributes }),
  warn: (message, attributes) => logger.warn(message, { ...attributes }),
  error: (message, attributes) => logger.error(message, { ...attributes }),
};

/**
 * Builds the handler around its dependencies (shared/wiring/committer.ts builds them); the GitHub
 * client is only built when a batch needs it.
 */
export function createCommitterHandler(source: DepsSource<CommitterDeps>) {
  const resolve = depsResolver(source);
  return lambdaHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    if (!Array.isArray(event?.Records)) {
      throw new InvalidInputError('committer input is not an SQS event: Records is missing');
    }
    const deps = await resolve();
    const marginMs = deps.marginMs ?? COMMITTER_MARGIN_MS;
    // Lambda always passes a context; a caller without one (a bench) gets no deadline.
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline = remaining === undefined ? Number.POSITIVE_INFINITY : Date.now() + remaining - marginMs;
    const summary = await processCommitQueue(event.Records, {
      repository: committerRepositories(deps),
      taskTokens: deps.taskTokens,
      log: queueLog,
      ...(deps.commit ? { commit: deps.commit } : {}),
      ...(deps.accept ? { accept: deps.accept } : {}),
      runs: deps.runs,
      ...(deps.alert ? { alert: deps.alert } : {}),
      time: {
        deadline,
        marginMs,
        ...(deps.taskTimeoutMs !== undefined ? { taskTimeoutMs: deps.taskTimeoutMs } : {}),
      },
    });
    metrics.addMetric('CommitsWritten', MetricUnit.Count, summary.commits);
    metrics.addMetric('ChangesCommitted', MetricUnit.Count, summary.committed);
    metrics.addMetric('ChangesUnchanged', MetricUnit.Count, summary.unchanged);
    metrics.addMetric('ChangesFailed', MetricUnit.Count, summary.failed);
    metrics.addMetric('CommitConflicts', MetricUnit.Count, summary.conflicts);
    // ChangesRefused and CommitRequestsInvalid are alarmed on: they are the alert for a refused change.
    metrics.addMetric('ChangesRefused', MetricUnit.Count, summary.refused);
    metrics.addMetric('CommitRequestsInvalid', MetricUnit.Count, summary.invalid);
    metrics.addMetric('ChangesExpired', MetricUnit.Count, summary.expired);
    metrics.addMetric('CommitQueueRedeliveries', MetricUnit.Count, summary.batchItemFailures.length);
    return { batchItemFailures: summary.batchItemFailures };
  });
}

/**
 * The deployed handler: GitHub settings and credentials from SHIPLANE_CONFIG, answers and run checks
 * via Step Functions, refusals counted in metrics that alarm to the alert topic.
 */
export const handler = createCommitterHandler(deployedCommitter());
