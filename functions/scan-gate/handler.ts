/**
 * scan-gate: one look at the pushed image's scan, before anything is committed. The state machine
 * calls it, reads `verdict` (pass / blocked / pending), waits and calls again while pending, up to
 * the app's `scan.timeout`. An error reading ECR (after the task's retries) fails the run.
 */
import { parseInput } from '../../shared/contracts/parse.js';
import { type ScanGateResult, scanGateInputSchema } from '../../shared/contracts/tasks.js';
import { checkScanGate, type ScanGateDeps } from '../../shared/steps/scan-gate/check-scan.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';
import { deployedScanGate } from '../../shared/wiring/scan-gate.js';

/** Builds the handler around its dependencies (shared/wiring/scan-gate.ts builds them). */
export function createScanGateHandler(deps: DepsSource<ScanGateDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<ScanGateResult> => {
    const input = parseInput(scanGateInputSchema, event, 'scan-gate input');
    logger.appendKeys({ execution: input.execution, app: input.release.app });
    return checkScanGate(input, await resolve());
  });
}

/** The deployed handler: the config from SHIPLANE_CONFIG, ECR in the function's account and region. */
export const handler = createScanGateHandler(deployedScanGate());
