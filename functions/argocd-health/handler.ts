/**
 * argocd-health: one poll of a stage's Argo CD wait. The state machine calls it, reads `status`
 * (healthy / degraded / progressing / superseded / replaced), waits `pollInterval` and calls again
 * until it is not progressing or `healthTimeout`. A thrown TerminalError (bad token, unknown app,
 * multi-source app with no source in the GitOps repository) fails the run.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseInput } from '../../shared/contracts/parse.js';
import { type HealthCheckResult, healthCheckInputSchema } from '../../shared/contracts/tasks.js';
import { type ArgoCdHealthDeps, checkArgoCdHealth } from '../../shared/steps/argocd-health/check-health.js';
import { deployedArgoCdHealth } from '../../shared/wiring/argocd-health.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger, metrics } from '../../shared/wiring/lambda.js';

/** Builds the handler around its dependencies (shared/wiring/argocd-health.ts builds them). */
export function createArgoCdHealthHandler(deps: DepsSource<ArgoCdHealthDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<HealthCheckResult> => {
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
  });
}

/** The deployed handler: Argo CD and GitHub endpoints and secrets from SHIPLANE_CONFIG. */
export const handler = createArgoCdHealthHandler(deployedArgoCdHealth());
