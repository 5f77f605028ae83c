/**
 * notify's dependencies, for Lambda and for local runs alike: the release thread (approvals table and
 * Slack), and the alert topic. Only where the table, the topic and the secrets live differs.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient, type ECRClientConfig } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { dynamoApprovalsStore } from '../adapters/aws/approvals-table.js';
import { ecrImageLabels } from '../adapters/aws/ecr-image-labels.js';
import { dynamoRunRecords } from '../adapters/aws/run-records-table.js';
import { createSecretResolver, type SecretResolver } from '../adapters/aws/secrets.js';
import { snsAlertPublisher } from '../adapters/aws/sns-alert-topic.js';
import { slackFromConfig } from '../adapters/slack/chat.js';
import { eventReply } from '../adapters/slack/release-thread-message.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import type { AlertPublisher } from '../ports/alerts.js';
import type { ApprovalsStore } from '../ports/approvals-store.js';
import type { DeliveryMetricsSink } from '../ports/delivery-metrics.js';
import type { ImageLabelsSource } from '../ports/image-labels.js';
import type { Reporter } from '../ports/reporter.js';
import type { RunRecordStore } from '../ports/run-records.js';
import type { NotifyDeps } from '../steps/notify/notify.js';
import { threadSettings } from '../steps/notify/thread.js';
import type { AwsAccess } from './aws.js';
import { onceAsync } from './deps.js';
import { lambdaDeliveryMetrics, lambdaReporter } from './lambda.js';
import { THREAD_SLACK } from './slack-thread.js';

/** DynamoDB (the approvals table) as notify reaches it: the SDK's default attempts and timeouts. */
export function notifyDynamoDB(access: AwsAccess = {}): DynamoDBClient {
  return new DynamoDBClient({ ...access });
}

/**
 * ECR, for the image's labels on a run's `started` event: two short attempts, so a slow registry
 * costs the notification a few seconds at most and lead time then counts from the push.
 */
export const NOTIFY_ECR = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const satisfies ECRClientConfig;

/** What differs between Lambda and a local run. */
export interface NotifyPlatform {
  readonly config: Config;
  readonly resolveSecret: SecretResolver;
  /** The approvals table: release threads and approvals. */
  readonly store: ApprovalsStore;
  /** The alert topic; without one, alerts are skipped. */
  readonly publishAlert?: AlertPublisher;
  readonly reporter: Reporter;
  /** The run records table; without one, runs are not recorded. */
  readonly runs?: RunRecordStore;
  /** Where a finished run's delivery metrics go. */
  readonly deliveryMetrics?: DeliveryMetricsSink;
  /** Where the image's OCI labels are read (ECR); without it, lead time counts from the push. */
  readonly imageLabels?: ImageLabelsSource;
  /** @default the system clock */
  readonly now?: () => Date;
}

export function notifyDeps(platform: NotifyPlatform): NotifyDeps {
  const { config } = platform;
  return {
    store: platform.store,
    // Notify replies in the thread: the one handler that carries the replies' rendering.
    chat: slackFromConfig(
      config.slack,
      platform.resolveSecret,
      { ...THREAD_SLACK, onRetry: (notice) => platform.reporter.warn(notice) },
      eventReply,
    ),
    ...(platform.publishAlert ? { publishAlert: platform.publishAlert } : {}),
    ...threadSettings(config),
    now: platform.now ?? (() => new Date()),
    reporter: platform.reporter,
    ...(platform.runs ? { runs: platform.runs } : {}),
    ...(platform.deliveryMetrics ? { deliveryMetrics: platform.deliveryMetrics } : {}),
    ...(platform.imageLabels ? { imageLabels: platform.imageLabels } : {}),
  };
}

/**
 * Lambda: the table from APPROVALS_TABLE, run records in RUN_RECORDS_TABLE (optional; with it, image
 * labels from ECR), the topic from ALERT_TOPIC_ARN (optional), Slack from
 * SHIPLANE_CONFIG. Built on the first notification and kept while the environment is warm.
 */
export function deployedNotify(env: NodeJS.ProcessEnv = process.env): () => Promise<NotifyDeps> {
  return onceAsync(() => {
    const topicArn = env[ENV.alertTopicArn];
    const runRecordsTable = env[ENV.runRecordsTable];
    const dynamo = notifyDynamoDB();
    return notifyDeps({
      // notify never reads tag patterns: the intake checks those with RE2.
      config: runtimeConfig(parseConfigShape, env),
      resolveSecret: createSecretResolver({ client: new SecretsManagerClient({}) }),
      store: dynamoApprovalsStore(dynamo, requireEnv(ENV.approvalsTable, env)),
      ...(runRecordsTable ? { runs: dynamoRunRecords(dynamo, runRecordsTable) } : {}),
      deliveryMetrics: lambdaDeliveryMetrics(),
      // Read only when there is a record to keep the build in.
      ...(runRecordsTable ? { imageLabels: ecrImageLabels(new ECRClient(NOTIFY_ECR)) } : {}),
      ...(topicArn ? { publishAlert: snsAlertPublisher(new SNSClient({}), topicArn) } : {}),
      reporter: lambdaReporter(),
    });
  });
}
