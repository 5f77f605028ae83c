/**
 * slack-interaction's dependencies, for Lambda and for local runs alike: Slack (tight: Slack waits
 * 3 s for the answer), the approvals table, the runs' task tokens and recent events, and the
 * approver check. Only where the table, the runs and the secrets live differs.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { dynamoApprovalsStore } from '../adapters/aws/approvals-table.js';
import { createSecretResolver, type SecretResolver } from '../adapters/aws/secrets.js';
import { stepFunctionsRecentRunEvents, stepFunctionsTaskTokens } from '../adapters/aws/task-tokens.js';
import { slackFromConfig } from '../adapters/slack/chat.js';
import { slackInteractions } from '../adapters/slack/interactions.js';
import type { SlackWebApiOptions } from '../adapters/slack/web-api.js';
import { freezeWindowsOf } from '../config/freeze.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import type { ApprovalsStore } from '../ports/approvals-store.js';
import type { Reporter } from '../ports/reporter.js';
import type { RecentRunEvents, TaskTokens } from '../ports/task-tokens.js';
import { createAuthorizer } from '../steps/approval/authorize.js';
import type { InteractionDeps } from '../steps/approval/interaction.js';
import type { AwsAccess } from './aws.js';
import { onceAsync } from './deps.js';
import { lambdaReporter } from './lambda.js';

/** Slack waits 3 s for the answer: one attempt of at most 1.2 s, no retries. */
export const INTERACTION_SLACK = {
  retries: 0,
  timeoutMs: 1_200,
} as const satisfies Pick<SlackWebApiOptions, 'retries' | 'timeoutMs'>;

/**
 * For the table and Step Functions. The SDK waits forever on a hung connection by default; then the
 * function is cut off at its timeout (10 s) between claiming a decision and telling the run, and the
 * table says "approved" for a run that was never told, until the approval expires. With these a hung
 * call fails in a few seconds and the claim is released (the clicker is told to try again).
 */
export const INTERACTION_AWS_CLIENT = {
  maxAttempts: 2,
  // Without throwOnRequestTimeout the handler only warns when requestTimeout passes, and keeps waiting.
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const satisfies DynamoDBClientConfig;

/** DynamoDB (the approvals table) as the endpoint reaches it: INTERACTION_AWS_CLIENT's attempts and timeouts. */
export function interactionDynamoDB(access: AwsAccess = {}): DynamoDBClient {
  return new DynamoDBClient({ ...INTERACTION_AWS_CLIENT, ...access });
}

/** What differs between Lambda and a local run. */
export interface SlackInteractionPlatform {
  readonly config: Config;
  readonly resolveSecret: SecretResolver;
  /** The approvals table: claims each decision exactly once. */
  readonly store: ApprovalsStore;
  /** Tells the waiting run. */
  readonly taskTokens: TaskTokens;
  /** The runs' latest history events, for an ambiguous SendTaskSuccess answer. */
  readonly runEvents: RecentRunEvents;
  readonly reporter: Reporter;
  /** @default the system clock */
  readonly now?: () => Date;
}

/** Build once per process: the approver groups are looked up right away and cached. */
export function slackInteractionDeps(platform: SlackInteractionPlatform): InteractionDeps {
  const { config, resolveSecret, reporter } = platform;
  // No retries here (INTERACTION_SLACK), so no notices; wired all the same should that change.
  const chat = slackFromConfig(config.slack, resolveSecret, {
    ...INTERACTION_SLACK,
    onRetry: (notice) => reporter.warn(notice),
  });
  return {
    interactions: slackInteractions({ signingSecret: () => resolveSecret(config.slack.signingSecret) }),
    chat,
    store: platform.store,
    taskTokens: platform.taskTokens,
    runEvents: platform.runEvents,
    authorize: createAuthorizer({
      groupMembers: (group) => chat.groupMembers(group),
      reporter,
      // Looked up while the function reads its secrets, so the first click does not wait for Slack.
      warm: config.stages.flatMap((stage) => stage.approval?.approvers ?? []),
    }),
    // Someone dropped from a stage's approvers cannot decide what was asked before the change.
    currentApprovers: (stage) => config.stages.find((s) => s.name === stage)?.approval?.approvers,
    now: platform.now ?? (() => new Date()),
    reporter,
    freezeWindows: freezeWindowsOf(config),
  };
}

/**
 * Lambda: the table from APPROVALS_TABLE, runs through Step Functions, Slack's secrets from
 * SHIPLANE_CONFIG. Built on the first click and kept while the environment is warm (the group cache
 * too).
 */
export function deployedSlackInteraction(
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<InteractionDeps> {
  return onceAsync(() => {
    const sfn = new SFNClient(INTERACTION_AWS_CLIENT);
    return slackInteractionDeps({
      // The endpoint never reads tag patterns: the intake checks those with RE2.
      config: runtimeConfig(parseConfigShape, env),
      resolveSecret: createSecretResolver({ client: new SecretsManagerClient({}) }),
      store: dynamoApprovalsStore(interactionDynamoDB(), requireEnv(ENV.approvalsTable, env)),
      taskTokens: stepFunctionsTaskTokens(sfn),
      runEvents: stepFunctionsRecentRunEvents(sfn, requireEnv(ENV.stateMachineArn, env)),
      reporter: lambdaReporter(),
    });
  });
}
