/**
 * slack-interaction: the public endpoint Slack posts button clicks to (API Gateway HTTP API, payload
 * format 2.0). Verifies Slack's signature over the raw body first; then authorizes, decides exactly
 * once and updates the approval message. Slack waits 3 seconds: the approver groups are looked up
 * while the function starts, the Slack client here makes no retries and gives up after 1.2 s, and
 * the answer is an empty 200.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { dynamoApprovalsStore } from '../../shared/adapters/aws/approvals-table.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import {
  stepFunctionsRecentRunEvents,
  stepFunctionsTaskTokens,
} from '../../shared/adapters/aws/task-tokens.js';
import { slackFromConfig } from '../../shared/adapters/slack/web-api.js';
import { createAuthorizer } from '../../shared/approvals/authorize.js';
import { handleInteraction, type InteractionDeps } from '../../shared/approvals/interaction.js';
import { runtimeConfig } from '../../shared/config/runtime.js';
import { ENV, requireEnv } from '../../shared/contracts/environment.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { type DepsSource, depsResolver, onceAsync } from '../../shared/handler-deps.js';
import { powertoolsReporter } from '../../shared/notifications/reporter.js';
import { logger, metrics, observability, tracer } from '../../shared/observability/index.js';

/** The parts of an HTTP API v2 event the endpoint reads. */
const httpEventSchema = z.object({
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
});

/**
 * Builds the handler. `deps` may be a function, awaited on each invocation, so the deployed handler
 * reads its config on first use rather than at import.
 */
export function createSlackInteractionHandler(deps: DepsSource<InteractionDeps>) {
  const resolve = depsResolver(deps);
  return middy(async (event: unknown): Promise<APIGatewayProxyStructuredResultV2> => {
    const http = parseInput(httpEventSchema, event, 'HTTP API event');
    // HTTP API lower-cases header names already; a proxy in between might not.
    const headers = Object.fromEntries(Object.entries(http.headers).map(([k, v]) => [k.toLowerCase(), v]));
    return handleInteraction(
      { headers, body: http.body, isBase64Encoded: http.isBase64Encoded },
      await resolve(),
    );
  }).use(observability());
}

/**
 * For the table and Step Functions. The SDK waits forever on a hung connection by default; then the
 * function is cut off at its timeout (10 s) between claiming a decision and telling the run, and the
 * table says "approved" for a run that was never told, until the approval expires. With these a hung
 * call fails in a few seconds and the claim is released (the clicker is told to try again).
 */
export const AWS_CLIENT_CONFIG = {
  maxAttempts: 2,
  // Without throwOnRequestTimeout the handler only warns when requestTimeout passes, and keeps waiting.
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const;

// Created once per Lambda environment and reused by every invocation (the group cache too).
const dynamo = tracer.captureAWSv3Client(new DynamoDBClient(AWS_CLIENT_CONFIG));
const sfn = tracer.captureAWSv3Client(new SFNClient(AWS_CLIENT_CONFIG));
const secretsClient = tracer.captureAWSv3Client(new SecretsManagerClient({}));

/** The deployed handler: table from APPROVALS_TABLE, Slack secrets from SHIPLANE_CONFIG. */
export const handler = createSlackInteractionHandler(
  onceAsync(async () => {
    const config = runtimeConfig();
    const secrets = createSecretResolver({ client: secretsClient });
    const reporter = powertoolsReporter(logger, metrics);
    const slack = slackFromConfig(config.slack, secrets, { retries: 0, timeoutMs: 1_200 });
    const approverGroups = config.stages.flatMap((stage) => stage.approval?.approvers ?? []);
    return {
      signingSecret: () => secrets(config.slack.signingSecret),
      slack,
      store: dynamoApprovalsStore(dynamo, requireEnv(ENV.approvalsTable)),
      taskTokens: stepFunctionsTaskTokens(sfn),
      // When SendTaskSuccess answers ambiguously, the run's history says what it received.
      runEvents: stepFunctionsRecentRunEvents(sfn, requireEnv(ENV.stateMachineArn)),
      authorize: createAuthorizer({
        groupMembers: (group) => slack.userGroupMembers(group),
        reporter,
        warm: approverGroups,
      }),
      now: () => new Date(),
      reporter,
    };
  }),
);
