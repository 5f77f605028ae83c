/**
 * committer: consumes the FIFO commit queue. Each batch (up to ten messages; one message group per
 * repository#branch) becomes one commit per branch; each waiting run is answered through its task
 * token. Malformed messages and GitHub outages are reported as batch item failures so SQS
 * redelivers them (then the DLQ); nothing is half-written. An image change is written only for a run
 * that is RUNNING, promotes that release (DescribeExecution) and waits for exactly that change (its
 * pending commit task in GetExecutionHistory, same task token); others are refused and alerted.
 * Every wait fits in the function's remaining time and the waiting run's task timeout.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Octokit } from '@octokit/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { stepFunctionsRunStatus } from '../../shared/adapters/aws/run-status.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import { stepFunctionsTaskTokens, type TaskTokens } from '../../shared/adapters/aws/task-tokens.js';
import {
  connectGitHub,
  describeCredentials,
  type GitHubConnection,
  type GitHubLog,
} from '../../shared/adapters/github/client.js';
import { githubRepository } from '../../shared/adapters/github/repository.js';
import { runtimeConfig } from '../../shared/config/runtime.js';
import type { Config } from '../../shared/config/schema.js';
import { ENV, requireEnv } from '../../shared/contracts/environment.js';
import type { Alert } from '../../shared/domain/release-thread.js';
import { InvalidInputError } from '../../shared/errors.js';
import { type AcceptChange, configuredChanges } from '../../shared/gitops/allowed-changes.js';
import type { CommitBatchOptions } from '../../shared/gitops/commit-batch.js';
import { processCommitQueue, type QueueLog } from '../../shared/gitops/commit-queue.js';
import { onceAsync } from '../../shared/handler-deps.js';
import { snsAlertPublisher } from '../../shared/notifications/alert-topic.js';
import { logger, metrics, observability, tracer } from '../../shared/observability/index.js';
import type { RunStatusReader } from '../../shared/ports/run-status.js';

type GitHubSource = GitHubConnection | Octokit;

export interface CommitterDeps {
  /**
   * The GitHub client for the GitOps repository: a connection (see connectGitHub), an Octokit, or a
   * function that returns one (called per batch; let it cache).
   */
  readonly github: GitHubSource | (() => Promise<GitHubSource>);
  /** Answers the waiting runs (Step Functions, or the local engine). */
  readonly taskTokens: TaskTokens;
  /** With a bare Octokit: names the credentials and API URL in errors. */
  readonly config?: Config;
  /** Conflict retries and back-off. */
  readonly commit?: CommitBatchOptions;
  /** Refuses requests whose repository, branch or file the config does not name. */
  readonly accept?: AcceptChange;
  /** The promotion runs (Step Functions, or the local engine): an image change needs its run waiting for it. */
  readonly runs: RunStatusReader;
  /** Publishes refused changes to the alert topic. @default log only */
  readonly alert?: (alert: Alert) => Promise<void>;
  /** How long a run waits for its commit (the commit task's timeout), in ms. @default no limit */
  readonly taskTimeoutMs?: number;
  /** Kept free before the function's end and before a run stops waiting. @default 10_000 */
  readonly marginMs?: number;
}

const DEFAULT_MARGIN_MS = 10_000;

const queueLog: QueueLog = {
  info: (message, attributes) => logger.info(message, { ...attributes }),
  warn: (message, attributes) => logger.warn(message, { ...attributes }),
  error: (message, attributes) => logger.error(message, { ...attributes }),
};

async function connection(deps: CommitterDeps): Promise<GitHubConnection> {
  const source = typeof deps.github === 'function' ? await deps.github() : deps.github;
  if ('octokit' in source) return source;
  const settings = deps.config?.gitops.github;
  return {
    octokit: source,
    credentials: settings ? describeCredentials(settings) : 'the GitHub credentials',
    apiUrl: settings?.apiUrl ?? 'GitHub',
  };
}

/** Builds the handler; the GitHub client is only built when a batch needs it. */
export function createCommitterHandler(deps: CommitterDeps) {
  const marginMs = deps.marginMs ?? DEFAULT_MARGIN_MS;
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    if (!Array.isArray(event?.Records)) {
      throw new InvalidInputError('committer input is not an SQS event: Records is missing');
    }
    // Lambda always passes a context; a caller without one (a bench) gets no deadline.
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline = remaining === undefined ? Number.POSITIVE_INFINITY : Date.now() + remaining - marginMs;
    const summary = await processCommitQueue(event.Records, {
      repository: async (fullName) => {
        const github = await connection(deps);
        return githubRepository(github.octokit, fullName, {
          credentials: github.credentials,
          apiUrl: github.apiUrl,
        });
      },
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
    metrics.addMetric('ChangesRefused', MetricUnit.Count, summary.refused);
    metrics.addMetric('ChangesExpired', MetricUnit.Count, summary.expired);
    metrics.addMetric('CommitQueueRedeliveries', MetricUnit.Count, summary.batchItemFailures.length);
    return { batchItemFailures: summary.batchItemFailures };
  }).use(observability());
}

/** Octokit's own messages: request lines at debug, rate-limit waits as warnings. */
const octokitLog: GitHubLog = {
  debug: (message) => logger.debug(message),
  info: (message) => logger.debug(message),
  warn: (message) => logger.warn(message),
  error: (message) => logger.debug(message),
};

// Created once per Lambda environment and reused by every invocation.
const sfnClient = tracer.captureAWSv3Client(new SFNClient({}));
const secretsClient = tracer.captureAWSv3Client(new SecretsManagerClient({}));
const snsClient = tracer.captureAWSv3Client(new SNSClient({}));
let accept: AcceptChange | undefined;
let runs: RunStatusReader | undefined;

/** The commit task's timeout the stack sets (COMMIT_TASK_TIMEOUT_SECONDS), in ms. */
function taskTimeoutFromEnv(): number | undefined {
  const seconds = Number(process.env[ENV.commitTaskTimeoutSeconds]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** The promotion runs of the stack's state machine, built on first use. */
function deployedRuns(): RunStatusReader {
  runs ??= stepFunctionsRunStatus(sfnClient, requireEnv(ENV.stateMachineArn));
  return runs;
}

/** The deployed handler: GitHub settings and credentials from SHIPLANE_CONFIG, answers via Step Functions. */
export const handler = createCommitterHandler({
  github: onceAsync(() =>
    connectGitHub(runtimeConfig().gitops.github, {
      resolveSecret: createSecretResolver({ client: secretsClient }),
      log: octokitLog,
    }),
  ),
  taskTokens: stepFunctionsTaskTokens(sfnClient),
  accept: (request) => {
    accept ??= configuredChanges(runtimeConfig());
    return accept(request);
  },
  // Read on first use: a missing variable is then a logged, retried failure, not a crashed cold start.
  runs: {
    describe: (execution) => deployedRuns().describe(execution),
    pendingCommit: (execution) => deployedRuns().pendingCommit(execution),
  },
  alert: (alert) => snsAlertPublisher(snsClient, requireEnv(ENV.alertTopicArn))(alert),
  ...(taskTimeoutFromEnv() !== undefined ? { taskTimeoutMs: taskTimeoutFromEnv()! } : {}),
});
