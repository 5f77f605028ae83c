/**
 * freeze-check: `<Stage> · Check freeze`, before a stage with `freeze` windows. Answers open, or
 * frozen with the end; the state machine then notifies, waits until the end and asks again. A stage
 * it has no windows for fails the run (fail closed).
 */
import { type FreezeStatus, freezeCheckSchema } from '../../shared/contracts/freeze.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { checkFreeze, type FreezeCheckDeps } from '../../shared/steps/freeze/check-freeze.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { deployedFreezeCheck } from '../../shared/wiring/freeze-check.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';

/** Builds the handler around its dependencies (shared/wiring/freeze-check.ts builds them). */
export function createFreezeCheckHandler(deps: DepsSource<FreezeCheckDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<FreezeStatus> => {
    const check = parseInput(freezeCheckSchema, event, 'freeze check');
    logger.appendKeys({ execution: check.execution, stage: check.stage });
    return checkFreeze(check, await resolve());
  });
}

/** The deployed handler: the windows from SHIPLANE_CONFIG, the system clock. */
export const handler = createFreezeCheckHandler(deployedFreezeCheck());
