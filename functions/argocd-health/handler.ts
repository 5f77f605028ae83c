/**
 * argocd-health: one poll of a stage's Argo CD wait. The state machine calls it, reads `status`
 * (healthy / degraded / progressing / superseded / replaced), waits `pollInterval` and calls again
 * until it is not progressing or `healthTimeout`. A thrown TerminalError (bad token, unknown app,
 * multi-source app with no source in the GitOps repository) fails the run.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { createArgoCdClient } from '../../shared/adapters/argocd/client.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import { createGitHubAncestry } from '../../shared/adapters/github/ancestry.js';
import { createGitHubOctokit, describeCredentials } from '../../shared/adapters/github/client.js';
import { githubRepository } from '../../shared/adapters/github/repository.js';
import { type ArgoCdHealthDeps, checkArgoCdHealth } from '../../shared/argocd/check-health.js';
import { cachedRevisionFiles } from '../../shared/argocd/revision-files.js';
import { runtimeConfig } from '../../shared/config/runtime.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { type HealthCheckResult, healthCheckInputSchema } from '../../shared/contracts/tasks.js';
import { type DepsSource, depsResolver, onceAsync } from '../../shared/handler-deps.js';
import { logger, metrics, observability, tracer } from '../../shared/observability/index.js';

/**
 * Builds the handler. `deps` may be a function, awaited on each invocation, so the deployed handler
 * reads its config and secrets on first use rather than at import.
 */
export function createArgoCdHealthHandler(deps: DepsSource<ArgoCdHealthDeps>) {
  const resolve = depsResolver(deps);
  return middy(async (event: unknown): Promise<HealthCheckResult> => {
    const input = parseInput(healthCheckInputSchema, event, 'argocd-health input');
    logger.appendKeys({ execution: input.execution, stage: input.stage, argocdApp: input.argocdApp });
    const result = await checkArgoCdHealth(input, await resolve());
    metrics.addMetric(`ArgoCdChecks_${result.status}`, MetricUnit.Count, 1);
    logger.info(`${input.argocdApp} ${result.status} (attempt ${input.attempt}/${input.maxAttempts})`, {
      message: result.message,
      revision: result.revision,
      syncStatus: result.syncStatus,
      healthStatus: result.healthStatus,
    });
    return result;
  }).use(observability());
}

// Created once per Lambda environment and reused by every invocation.
const secretsClient = tracer.captureAWSv3Client(new SecretsManagerClient({}));

/** The deployed handler: Argo CD and GitHub endpoints and secrets from SHIPLANE_CONFIG. */
export const handler = createArgoCdHealthHandler(
  onceAsync(async () => {
    const config = runtimeConfig();
    const resolveSecret = createSecretResolver({ client: secretsClient });
    const { github } = config.gitops;
    // No retries or rate-limit waits inside a poll: a GitHub hiccup reads as "progressing" and the
    // next poll asks again, so one check never outlasts the function's timeout.
    const octokit = await createGitHubOctokit(github, { resolveSecret, retries: 0, rateLimitRetries: 0 });
    return {
      argocd: createArgoCdClient({ url: config.argocd.url, token: config.argocd.token, resolveSecret }),
      ancestry: createGitHubAncestry({ octokit, repository: config.gitops.repository }),
      files: cachedRevisionFiles(
        githubRepository(octokit, config.gitops.repository, {
          credentials: describeCredentials(github),
          apiUrl: github.apiUrl,
        }),
      ),
      repository: config.gitops.repository,
    };
  }),
);
