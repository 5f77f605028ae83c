/**
 * argocd-health: one poll of a stage's Argo CD wait. The state machine calls it, reads `status`
 * (healthy / degraded / progressing), waits `pollInterval` and calls again until healthy, degraded
 * or `healthTimeout`. A thrown TerminalError (bad token, unknown app, multi-source app) fails the run.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { requestLog } from '@octokit/plugin-request-log';
import { createArgoCdClient } from '../../shared/adapters/argocd/client.js';
import { createSecretResolver, type SecretResolver } from '../../shared/adapters/aws/secrets.js';
import { createGitHubAncestry } from '../../shared/adapters/github/ancestry.js';
import { type ArgoCdHealthDeps, checkArgoCdHealth } from '../../shared/argocd/check-health.js';
import { runtimeConfig } from '../../shared/config/runtime.js';
import type { Config } from '../../shared/config/schema.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { type HealthCheckResult, healthCheckInputSchema } from '../../shared/contracts/tasks.js';
import { logger, metrics, observability, tracer } from '../../shared/observability/index.js';

/**
 * Builds the handler. `deps` may be a function, awaited on each invocation, so the deployed handler
 * reads its config and secrets on first use rather than at import.
 */
export function createArgoCdHealthHandler(deps: ArgoCdHealthDeps | (() => Promise<ArgoCdHealthDeps>)) {
  const resolve = typeof deps === 'function' ? deps : async () => deps;
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

// Core Octokit with the request log `@octokit/rest` carried, without its ~80 KB table of endpoint methods.
const GitOpsOctokit = Octokit.plugin(requestLog);

/** An Octokit for the GitOps repository from the config's GitHub credentials. */
async function gitopsOctokit(config: Config, resolveSecret: SecretResolver): Promise<Octokit> {
  const { apiUrl, token, app } = config.gitops.github;
  const baseUrl = apiUrl.replace(/\/+$/, '');
  if (token) return new GitOpsOctokit({ baseUrl, auth: await resolveSecret(token) });
  if (!app)
    throw new Error(
      'config.gitops.github has neither token nor app; the config schema should have refused it',
    );
  return new GitOpsOctokit({
    baseUrl,
    authStrategy: createAppAuth,
    auth: {
      appId: app.appId,
      installationId: app.installationId,
      privateKey: await resolveSecret(app.privateKey),
    },
  });
}

// Created once per Lambda environment and reused by every invocation.
const secretsClient = tracer.captureAWSv3Client(new SecretsManagerClient({}));
let deployed: Promise<ArgoCdHealthDeps> | undefined;

/** The deployed handler: Argo CD and GitHub endpoints and secrets from SHIPLANE_CONFIG. */
export const handler = createArgoCdHealthHandler(() => {
  deployed ??= (async () => {
    const config = runtimeConfig();
    const resolveSecret = createSecretResolver({ client: secretsClient });
    return {
      argocd: createArgoCdClient({ url: config.argocd.url, token: config.argocd.token, resolveSecret }),
      ancestry: createGitHubAncestry({
        octokit: await gitopsOctokit(config, resolveSecret),
        repository: config.gitops.repository,
      }),
    };
  })().catch((error: unknown) => {
    // A failed start-up (secret not readable yet) must not stick to this environment forever.
    deployed = undefined;
    throw error;
  });
  return deployed;
});
