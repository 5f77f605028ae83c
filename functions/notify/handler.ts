/**
 * notify: one event of a release into its Slack thread (parent message updated in place, a reply
 * per event) and, for failures, degraded health, timeouts and expiry, the SNS alert topic. It never
 * fails a run for Slack or SNS; only a malformed notification is an error.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { dynamoApprovalsStore } from '../../shared/adapters/aws/approvals-table.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import { slackFromConfig } from '../../shared/adapters/slack/web-api.js';
import { runtimeConfig } from '../../shared/config/runtime.js';
import { ENV, requireEnv } from '../../shared/contracts/environment.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { type NotificationResult, notificationSchema } from '../../shared/contracts/tasks.js';
import { type DepsSource, depsResolver, onceAsync } from '../../shared/handler-deps.js';
import { snsAlertPublisher } from '../../shared/notifications/alert-topic.js';
import { type NotifyDeps, notify } from '../../shared/notifications/notify.js';
import { powertoolsReporter } from '../../shared/notifications/reporter.js';
import { threadSettings } from '../../shared/notifications/thread.js';
import { logger, metrics, observability, tracer } from '../../shared/observability/index.js';

/**
 * Builds the handler. `deps` may be a function, awaited on each invocation, so the deployed handler
 * reads its config on first use rather than at import.
 */
export function createNotifyHandler(deps: DepsSource<NotifyDeps>) {
  const resolve = depsResolver(deps);
  return middy(async (event: unknown): Promise<NotificationResult> => {
    const notification = parseInput(notificationSchema, event, 'notification');
    logger.appendKeys({
      execution: notification.execution,
      event: notification.event,
      ...(notification.stage ? { stage: notification.stage } : {}),
    });
    return notify(notification, await resolve());
  }).use(observability());
}

// Created once per Lambda environment and reused by every invocation.
const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const sns = tracer.captureAWSv3Client(new SNSClient({}));
const secretsClient = tracer.captureAWSv3Client(new SecretsManagerClient({}));

/** The deployed handler: table and topic from the environment, Slack from SHIPLANE_CONFIG. */
export const handler = createNotifyHandler(
  onceAsync(async () => {
    const config = runtimeConfig();
    const secrets = createSecretResolver({ client: secretsClient });
    const topicArn = process.env[ENV.alertTopicArn];
    return {
      store: dynamoApprovalsStore(dynamo, requireEnv(ENV.approvalsTable)),
      // Three attempts of at most 3 s; the function has 30 s and stops calling Slack after an outage.
      slack: slackFromConfig(config.slack, secrets, { retries: 2, timeoutMs: 3_000 }),
      ...(topicArn ? { publishAlert: snsAlertPublisher(sns, topicArn) } : {}),
      ...threadSettings(config),
      now: () => new Date(),
      reporter: powertoolsReporter(logger, metrics),
    };
  }),
);
