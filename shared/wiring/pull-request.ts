/**
 * The pull-request task's dependencies, for Lambda and for local runs alike: the GitOps repository
 * and its pull requests over one GitHub client (the committer's retries and rate-limit waits, without
 * its write spacing: one run writes a handful of requests), the config, the reporter and the clock.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretResolver, type SecretResolver } from '../adapters/aws/secrets.js';
import {
  createGitHubOctokit,
  describeCredentials,
  type GitHubClientOptions,
  type GitHubLog,
} from '../adapters/github/client.js';
import { githubPullRequests } from '../adapters/github/pull-requests.js';
import { githubRepository } from '../adapters/github/repository.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import type { Reporter } from '../ports/reporter.js';
import type { PullRequestDeps } from '../steps/pull-request/pull-request.js';
import { onceAsync } from './deps.js';
import { lambdaGitHubLog, lambdaReporter } from './lambda.js';

/**
 * 5xx retried twice and a rate limit waited out once for up to 20 s: the task's own Retry and the
 * state machine's next poll cover longer outages, and one call must fit the function's 60 s.
 */
export const PULL_REQUEST_GITHUB = {
  retries: 2,
  rateLimitRetries: 1,
  maxRateLimitWaitSeconds: 20,
} as const satisfies Partial<GitHubClientOptions>;

/** What differs between Lambda and a local run. */
export interface PullRequestPlatform {
  readonly config: Config;
  readonly resolveSecret: SecretResolver;
  readonly reporter: Reporter;
  readonly githubLog?: GitHubLog;
  /** @default the system clock */
  readonly now?: () => Date;
}

export function pullRequestDeps(platform: PullRequestPlatform): PullRequestDeps {
  const { config, resolveSecret } = platform;
  const settings = config.gitops.github;
  // Built when a run first needs it, then kept while the environment is warm.
  const octokit = onceAsync(() =>
    createGitHubOctokit(settings, {
      resolveSecret,
      ...PULL_REQUEST_GITHUB,
      ...(platform.githubLog ? { log: platform.githubLog } : {}),
    }),
  );
  const options = { credentials: describeCredentials(settings), apiUrl: settings.apiUrl };
  return {
    config,
    github: async (fullName) => {
      const client = await octokit();
      return {
        repository: githubRepository(client, fullName, options),
        pullRequests: githubPullRequests(client, fullName, options),
      };
    },
    reporter: platform.reporter,
    now: platform.now ?? (() => new Date()),
  };
}

/** Lambda: the config from SHIPLANE_CONFIG, the GitHub credential from Secrets Manager. */
export function deployedPullRequest(env: NodeJS.ProcessEnv = process.env): () => PullRequestDeps {
  let deployed: PullRequestDeps | undefined;
  return () => {
    deployed ??= pullRequestDeps({
      config: runtimeConfig(parseConfigShape, env),
      resolveSecret: createSecretResolver({ client: new SecretsManagerClient({}) }),
      reporter: lambdaReporter(),
      githubLog: lambdaGitHubLog,
    });
    return deployed;
  };
}
