/**
 * request-approval: the approval task (`lambda:invoke.waitForTaskToken`). Stores the task token under
 * a short approval id and posts the approval message in the release's Slack thread; the run then
 * waits until someone decides (slack-interaction or the CLI) or the stage's approval timeout.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { dynamoApprovalsStore } from '../../shared/adapters/aws/approvals-table.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import { stepFunctionsTaskTokens } from '../../shared/adapters/aws/task-tokens.js';
import { slackFromConfig } from '../../shared/adapters/slack/web-api.js';
import { ecrImageFacts } from '../../shared/approvals/image-facts.js';
import {
  type RequestApprovalDeps,
  type RequestApprovalResult,
  requestApproval,
} from '../../shared/approvals/request.js';
import { runtimeConfig } from '../../shared/config/runtime.js';
import { ENV, requireEnv } from '../../shared/contracts/environment.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { approvalRequestSchema } from '../../shared/contracts/tasks.js';
import { type DepsSource, depsResolver, onceAsync } from '../../shared/handler-deps.js';
import { powertoolsReporter } from '../../shared/notifications/reporter.js';
import { threadSettings } from '../../shared/notifications/thread.js';
import { logger, metrics, observability, tracer } from '../../shared/observability/index.js';

/**
 * Builds the handler. `deps` may be a function, awaited on each invocation, so the deployed handler
 * reads its config on first use rather than at import.
 */
export function createRequestApprovalHandler(deps: DepsSource<RequestApprovalDeps>) {
  const resolve = depsResolver(deps);
  return middy(async (event: unknown): Promise<RequestApprovalResult> => {
    const request = parseInput(approvalRequestSchema, event, 'approval request');
    logger.appendKeys({ execution: request.execution, stage: request.stage });
    return requestApproval(request, await resolve());
  }).use(observability());
}

// Created once per Lambda environment and reused by every invocation.
const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const ecr = tracer.captureAWSv3Client(new ECRClient({}));
const secretsClient = tracer.captureAWSv3Client(new SecretsManagerClient({}));
// One SendTaskFailure attempt gives up after about 3 s: request.ts retries it with backoff inside its
// own budget, so the function (30 s) still has time to post the approval. Without
// throwOnRequestTimeout a hung call only logs a warning and keeps waiting.
const sfn = tracer.captureAWSv3Client(
  new SFNClient({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  }),
);

/** The deployed handler: table from APPROVALS_TABLE, Slack from SHIPLANE_CONFIG, SendTaskFailure via SFN. */
export const handler = createRequestApprovalHandler(
  onceAsync(async () => {
    const config = runtimeConfig();
    const secrets = createSecretResolver({ client: secretsClient });
    const reporter = powertoolsReporter(logger, metrics);
    return {
      store: dynamoApprovalsStore(dynamo, requireEnv(ENV.approvalsTable)),
      // Three attempts of at most 3 s; the function has 30 s and stops calling Slack after an outage.
      slack: slackFromConfig(config.slack, secrets, { retries: 2, timeoutMs: 3_000 }),
      images: ecrImageFacts(ecr, reporter),
      ...threadSettings(config),
      now: () => new Date(),
      reporter,
      // Fails an older run's approval task when a newer release supersedes it.
      taskTokens: stepFunctionsTaskTokens(sfn),
    };
  }),
);
