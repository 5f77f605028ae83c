/**
 * request-approval's dependencies, for Lambda and for local runs alike: the release thread
 * (approvals table and Slack), the image's facts, and the task tokens of older runs it supersedes.
 * Only where those live differs (a local run reads ECR only through a client its platform hands
 * over: the sandbox's ECR stand-in).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { dynamoApprovalsStore } from '../adapters/aws/approvals-table.js';
import { ecrImageFacts } from '../adapters/aws/ecr-image-facts.js';
import { createSecretResolver, type SecretResolver } from '../adapters/aws/secrets.js';
import { stepFunctionsTaskTokens } from '../adapters/aws/task-tokens.js';
import { slackFromConfig } from '../adapters/slack/chat.js';
import { freezeWindowsOf } from '../config/freeze.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import type { ApprovalsStore } from '../ports/approvals-store.js';
import type { ImageFactsSource } from '../ports/image-facts.js';
import type { Reporter } from '../ports/reporter.js';
import type { TaskTokens } from '../ports/task-tokens.js';
import type { RequestApprovalDeps } from '../steps/approval/request.js';
import { threadSettings } from '../steps/notify/thread.js';
import type { AwsAccess } from './aws.js';
import { onceAsync } from './deps.js';
import { ecrClient } from './ecr.js';
import { lambdaReporter } from './lambda.js';
import { THREAD_SLACK } from './slack-thread.js';

/**
 * Step Functions, for failing a superseded run's approval task: one SendTaskFailure attempt gives up
 * after about 3 s, because request.ts retries it with backoff inside its own budget, so the function
 * (30 s) still has time to post the approval. Without throwOnRequestTimeout a hung call only logs a
 * warning and keeps waiting.
 */
export const REQUEST_APPROVAL_SFN = {
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const satisfies SFNClientConfig;

/** DynamoDB (the approvals table) as request-approval reaches it: the SDK's default attempts and timeouts. */
export function requestApprovalDynamoDB(access: AwsAccess = {}): DynamoDBClient {
  return new DynamoDBClient({ ...access });
}

/** What differs between Lambda and a local run. */
export interface RequestApprovalPlatform {
  readonly config: Config;
  readonly resolveSecret: SecretResolver;
  /** The approvals table: release threads and approvals. */
  readonly store: ApprovalsStore;
  /** Fails an older run's approval task when a newer release supersedes it. */
  readonly taskTokens: TaskTokens;
  /** Where the image's facts come from (ECR); none when a local run has no ECR to read. */
  readonly images?: ImageFactsSource;
  readonly reporter: Reporter;
  /** @default the system clock */
  readonly now?: () => Date;
}

export function requestApprovalDeps(platform: RequestApprovalPlatform): RequestApprovalDeps {
  const { config } = platform;
  return {
    store: platform.store,
    chat: slackFromConfig(config.slack, platform.resolveSecret, {
      ...THREAD_SLACK,
      onRetry: (notice) => platform.reporter.warn(notice),
    }),
    ...(platform.images ? { images: platform.images } : {}),
    ...threadSettings(config),
    now: platform.now ?? (() => new Date()),
    reporter: platform.reporter,
    taskTokens: platform.taskTokens,
    freezeWindows: freezeWindowsOf(config),
  };
}

/**
 * Lambda: the table from APPROVALS_TABLE, Slack from SHIPLANE_CONFIG, image facts from ECR, task
 * tokens through Step Functions. Built on the first request and kept while the environment is warm.
 */
export function deployedRequestApproval(
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<RequestApprovalDeps> {
  return onceAsync(() => {
    const reporter = lambdaReporter();
    return requestApprovalDeps({
      // request-approval never reads tag patterns: the intake checks those with RE2.
      config: runtimeConfig(parseConfigShape, env),
      resolveSecret: createSecretResolver({ client: new SecretsManagerClient({}) }),
      store: dynamoApprovalsStore(requestApprovalDynamoDB(), requireEnv(ENV.approvalsTable, env)),
      taskTokens: stepFunctionsTaskTokens(new SFNClient(REQUEST_APPROVAL_SFN)),
      images: ecrImageFacts(ecrClient(), reporter),
      reporter,
    });
  });
}
