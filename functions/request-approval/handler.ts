/**
 * request-approval: the approval task (`lambda:invoke.waitForTaskToken`). Stores the task token under
 * a short approval id and posts the approval message in the release's Slack thread; the run then
 * waits until someone decides (slack-interaction or the CLI) or the stage's approval timeout.
 */

import { parseInput } from '../../shared/contracts/parse.js';
import { approvalRequestSchema } from '../../shared/contracts/tasks.js';
import {
  type RequestApprovalDeps,
  type RequestApprovalResult,
  requestApproval,
} from '../../shared/steps/approval/request.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';
import { deployedRequestApproval } from '../../shared/wiring/request-approval.js';

/** Builds the handler around its dependencies (shared/wiring/request-approval.ts builds them). */
export function createRequestApprovalHandler(deps: DepsSource<RequestApprovalDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<RequestApprovalResult> => {
    const request = parseInput(approvalRequestSchema, event, 'approval request');
    logger.appendKeys({ execution: request.execution, stage: request.stage });
    return requestApproval(request, await resolve());
  });
}

/** The deployed handler: table from APPROVALS_TABLE, Slack from SHIPLANE_CONFIG, SendTaskFailure via SFN. */
export const handler = createRequestApprovalHandler(deployedRequestApproval());
