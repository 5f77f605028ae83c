/**
 * Sweep: an EventBridge schedule (every `intake.sweep`) → this Lambda → DescribeImages on each
 * configured ECR repository → StartExecution for pushes the intake never saw (the sweep step,
 * shared/steps/sweep/sweep.ts). It decides and starts exactly as the intake does, under the same
 * deterministic execution name, so a push the intake already started is not started again. Any
 * listing or start that failed makes the invocation fail (alarmed); the next sweep tries again.
 */
import { requireReleaseClaims } from '../../shared/steps/intake/intake.js';
import { type SweepResult, sweepRecentPushes } from '../../shared/steps/sweep/sweep.js';
import { lambdaHandler, lambdaReporter } from '../../shared/wiring/lambda.js';
import { deployedSweep, type SweepHandlerDeps } from '../../shared/wiring/sweep.js';

export type { SweepHandlerDeps, SweepResult };

/**
 * Builds the handler around its dependencies (shared/wiring/sweep.ts builds them). `deps` may be a
 * function, so the deployed handler reads its config and environment on first use rather than at import.
 * The scheduled event carries nothing the sweep needs; it is not read.
 */
export function createSweepHandler(deps: SweepHandlerDeps | (() => SweepHandlerDeps)) {
  const resolve = typeof deps === 'function' ? deps : () => deps;
  return lambdaHandler(async (_event: unknown): Promise<SweepResult> => {
    const current = resolve();
    requireReleaseClaims(current);
    return sweepRecentPushes({ ...current, reporter: lambdaReporter() });
  });
}

/** The deployed handler: the intake's environment, and ECR in the function's account and region. */
export const handler = createSweepHandler(deployedSweep());
