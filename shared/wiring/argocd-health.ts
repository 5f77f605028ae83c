/**
 * argocd-health's dependencies, for Lambda and for local runs alike: the Argo CD client, and GitHub
 * for the commit's ancestry and the stage file at a revision. Only the config and the secrets differ.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createArgoCdClient } from '../adapters/argocd/client.js';
import { createSecretResolver, type SecretResolver } from '../adapters/aws/secrets.js';
import { createGitHubAncestry } from '../adapters/github/ancestry.js';
import {
  createGitHubOctokit,
  describeCredentials,
  type GitHubClientOptions,
} from '../adapters/github/client.js';
import { githubRepository } from '../adapters/github/repository.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import { tagLocation } from '../config/tag-location.js';
import type { ArgoCdHealthDeps, CheckedRepository } from '../steps/argocd-health/check-health.js';
import { cachedRevisionFiles } from '../steps/argocd-health/revision-files.js';
import { onceAsync } from './deps.js';
import { lambdaRetryNotice } from './lambda.js';

/**
 * No retries or rate-limit waits inside a poll: a GitHub hiccup reads as "progressing" and the next
 * poll asks again, so one check never outlasts the function's timeout.
 */
export const ARGOCD_HEALTH_GITHUB = {
  retries: 0,
  rateLimitRetries: 0,
} as const satisfies Partial<GitHubClientOptions>;

/** What differs between Lambda and a local run. */
export interface ArgoCdHealthPlatform {
  readonly config: Config;
  readonly resolveSecret: SecretResolver;
  /** Where each Argo CD retry and its wait is said (the handler's warn). */
  readonly argocdRetryNotice?: (notice: string) => void;
}

/** Build once per process and reuse: the per-revision caches last across polls. */
export async function argoCdHealthDeps(platform: ArgoCdHealthPlatform): Promise<ArgoCdHealthDeps> {
  const { config, resolveSecret } = platform;
  const { github } = config.gitops;
  const octokit = await createGitHubOctokit(github, {
    resolveSecret,
    homeRepository: config.gitops.repository,
    ...ARGOCD_HEALTH_GITHUB,
  });
  // One reader per repository, kept across polls with its revision cache.
  const readers = new Map<string, CheckedRepository>();
  const sources = (repository: string): CheckedRepository => {
    let reader = readers.get(repository);
    if (!reader) {
      reader = {
        ancestry: createGitHubAncestry({ octokit, repository }),
        files: cachedRevisionFiles(
          githubRepository(octokit, repository, {
            credentials: describeCredentials(github),
            apiUrl: github.apiUrl,
          }),
        ),
      };
      readers.set(repository, reader);
    }
    return reader;
  };
  const gitops = sources(config.gitops.repository);
  return {
    argocd: createArgoCdClient({
      url: config.argocd.url,
      token: config.argocd.token,
      resolveSecret,
      ...(platform.argocdRetryNotice ? { onRetry: platform.argocdRetryNotice } : {}),
    }),
    ancestry: gitops.ancestry,
    files: gitops.files,
    repository: config.gitops.repository,
    locate: (app, stage) => tagLocation(config, app, stage),
    sources,
  };
}

/** Lambda: the config from SHIPLANE_CONFIG, secrets from Secrets Manager; built on the first poll. */
export function deployedArgoCdHealth(env: NodeJS.ProcessEnv = process.env): () => Promise<ArgoCdHealthDeps> {
  return onceAsync(() =>
    argoCdHealthDeps({
      // This handler never reads tag patterns: the intake checks those with RE2.
      config: runtimeConfig(parseConfigShape, env),
      resolveSecret: createSecretResolver({ client: new SecretsManagerClient({}) }),
      argocdRetryNotice: lambdaRetryNotice,
    }),
  );
}
