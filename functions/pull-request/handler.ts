/**
 * pull-request: a stage with `pullRequest` proposes the run's change as a pull request (`open`) and
 * looks at it once per poll (`check`): the state machine reads `state` — open waits `waitSeconds` and
 * asks again, merged goes on to the Argo CD wait at the merge commit, rejected / expired / superseded
 * end the run so. An error reaching GitHub (after the task's retries) fails the run.
 */
import { parseInput } from '../../shared/contracts/parse.js';
import { type PullRequestAnswer, pullRequestInputSchema } from '../../shared/contracts/tasks.js';
import { type PullRequestDeps, pullRequestTask } from '../../shared/steps/pull-request/pull-request.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';
import { deployedPullRequest } from '../../shared/wiring/pull-request.js';

/** Builds the handler around its dependencies (shared/wiring/pull-request.ts builds them). */
export function createPullRequestHandler(deps: DepsSource<PullRequestDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<PullRequestAnswer> => {
    const input = parseInput(pullRequestInputSchema, event, 'pull-request input');
    logger.appendKeys({ execution: input.execution, app: input.release.app, stage: input.stage });
    return pullRequestTask(input, await resolve());
  });
}

/** The deployed handler: the config from SHIPLANE_CONFIG, GitHub with the config's credential. */
export const handler = createPullRequestHandler(deployedPullRequest());
