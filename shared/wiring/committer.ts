/**
 * The committer's dependencies, for Lambda and for local runs alike: GitHub (built when a batch
 * first needs it), the runs it answers and checks, and the changes the config allows. Only where the
 * runs, the alerts and the secrets live differs.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Octokit } from '@octokit/core';
import { stepFunctionsRunStatus } from '../adapters/aws/run-status.js';
import { createSecretResolver, type SecretResolver } from '../adapters/aws/secrets.js';
import { stepFunctionsTaskTokens } from '../adapters/aws/task-tokens.js';
import {
  connectGitHub,
  describeCredentials,
  type GitHubClientOptions,
  type GitHubConnection,
  type GitHubLog,
} from '../adapters/github/client.js';
import { githubRepository } from '../adapters/github/repository.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import { type AcceptChange, configuredChanges } from '../domain/allowed-changes.js';
import type { Alert } from '../domain/release-thread.js';
import type { GitOpsRepository } from '../ports/gitops-repository.js';
import type { RunStatusReader } from '../ports/run-status.js';
import type { TaskTokens } from '../ports/task-tokens.js';
import type { CommitBatchOptions } from '../steps/commit/commit-batch.js';
import { onceAsync } from './deps.js';
import { lambdaGitHubLog } from './lambda.js';

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
  /** The promotion runs (Step Functions, or the local engine): an image change needs its run RUNNING. */
  readonly runs: RunStatusReader;
  /**
   * Tells people about a refused change at once (the local runtime's console). @default none: in
   * Lambda the refusal metrics alarm to the alert topic
   */
  readonly alert?: (alert: Alert) => Promise<void>;
  /** How long a run waits for its commit (the commit task's timeout), in ms. @default no limit */
  readonly taskTimeoutMs?: number;
  /** Kept free before the function's end and before a run stops waiting. @default 10_000 */
  readonly marginMs?: number;
}

/**
 * GitHub for the committer: 5xx retried 3 times, rate limits waited out twice for up to 60 s, writes
 * spaced 1 s apart (GitHub's ask for content-creating requests). Every wait also fits the batch's
 * deadline (see the GitHub client).
 */
export const COMMITTER_GITHUB = {
  retries: 3,
  rateLimitRetries: 2,
  maxRateLimitWaitSeconds: 60,
  minWriteIntervalMs: 1_000,
} as const satisfies Partial<GitHubClientOptions>;

/** Conflict rounds on a branch that keeps moving, and their back-off. */
export const COMMITTER_COMMIT = {
  maxAttempts: 5,
  backoffBaseMs: 250,
  backoffMaxMs: 5_000,
} as const satisfies CommitBatchOptions;

/** Kept free before the function's end and before a run stops waiting, in ms. */
export const COMMITTER_MARGIN_MS = 10_000;

/** What differs between Lambda and a local run. */
export interface CommitterPlatform {
  readonly config: Config;
  readonly resolveSecret: SecretResolver;
  readonly taskTokens: TaskTokens;
  readonly runs: RunStatusReader;
  readonly alert?: (alert: Alert) => Promise<void>;
  /** How long a run waits for its commit, when the platform says (the stack does). */
  readonly taskTimeoutMs?: number;
  /** Where Octokit's messages go. */
  readonly githubLog?: GitHubLog;
  /**
   * The GitHub endpoint's pace: a local stand-in has no secondary rate limit, so it needs no spacing
   * between writes. @default COMMITTER_GITHUB.minWriteIntervalMs
   */
  readonly githubWriteIntervalMs?: number;
}

export function committerDeps(platform: CommitterPlatform): CommitterDeps {
  const { config, resolveSecret } = platform;
  return {
    // Built when a batch first needs it, then kept: one client (and one write queue) per process.
    github: onceAsync(() =>
      connectGitHub(config.gitops.github, {
        resolveSecret,
        homeRepository: config.gitops.repository,
        ...COMMITTER_GITHUB,
        ...(platform.githubWriteIntervalMs !== undefined
          ? { minWriteIntervalMs: platform.githubWriteIntervalMs }
          : {}),
        ...(platform.githubLog ? { log: platform.githubLog } : {}),
      }),
    ),
    config,
    taskTokens: platform.taskTokens,
    commit: COMMITTER_COMMIT,
    accept: configuredChanges(config),
    runs: platform.runs,
    ...(platform.alert ? { alert: platform.alert } : {}),
    ...(platform.taskTimeoutMs !== undefined ? { taskTimeoutMs: platform.taskTimeoutMs } : {}),
    marginMs: COMMITTER_MARGIN_MS,
  };
}

/** The GitOps repositories of a batch, over the committer's GitHub client. */
export function committerRepositories(deps: CommitterDeps): (fullName: string) => Promise<GitOpsRepository> {
  return async (fullName) => {
    const source = typeof deps.github === 'function' ? await deps.github() : deps.github;
    const settings = deps.config?.gitops.github;
    const github: GitHubConnection =
      'octokit' in source
        ? source
        : {
            octokit: source,
            credentials: settings ? describeCredentials(settings) : 'the GitHub credentials',
            apiUrl: settings?.apiUrl ?? 'GitHub',
          };
    return githubRepository(github.octokit, fullName, {
      credentials: github.credentials,
      apiUrl: github.apiUrl,
    });
  };
}

/** The commit task's timeout the stack sets (COMMIT_TASK_TIMEOUT_SECONDS), in ms. */
function taskTimeoutFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const seconds = Number(env[ENV.commitTaskTimeoutSeconds]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/**
 * Lambda: the config from SHIPLANE_CONFIG, runs answered and checked through Step Functions. Built on
 * the first batch and kept while the environment is warm. The state machine is read when first used:
 * a missing variable is then a logged, retried failure of that change, not a failed batch.
 *
 * No SNS client: a refusal is alerted by the CloudWatch alarms on the handler's ChangesRefused and
 * CommitRequestsInvalid metrics (to the alert topic, see infra/constructs/alerting.ts), and a run
 * waiting on a refused change is failed with the reason, which notify sends to the alert topic. The
 * client and its query protocol were 30 KB of the bundle for that one message.
 */
export function deployedCommitter(env: NodeJS.ProcessEnv = process.env): () => Promise<CommitterDeps> {
  return onceAsync(() => {
    const sfn = new SFNClient({});
    let runs: RunStatusReader | undefined;
    // Read on first use: a missing variable is then a logged, retried failure, not a crashed cold start.
    const deployedRuns = () => {
      runs ??= stepFunctionsRunStatus(sfn, requireEnv(ENV.stateMachineArn, env));
      return runs;
    };
    const taskTimeoutMs = taskTimeoutFromEnv(env);
    return committerDeps({
      // The committer never reads tag patterns: the intake checks those with RE2.
      config: runtimeConfig(parseConfigShape, env),
      resolveSecret: createSecretResolver({ client: new SecretsManagerClient({}) }),
      taskTokens: stepFunctionsTaskTokens(sfn),
      runs: {
        describe: (execution) => deployedRuns().describe(execution),
        pendingCommit: (execution) => deployedRuns().pendingCommit(execution),
      },
      ...(taskTimeoutMs !== undefined ? { taskTimeoutMs } : {}),
      githubLog: lambdaGitHubLog,
    });
  });
}
