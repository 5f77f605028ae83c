import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { type IRuleTarget, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Config, SecretSelection } from '../../shared/config/schema.js';
import { ENV } from '../../shared/contracts/environment.js';
import { SECRET_TAGS } from '../../shared/domain/secret-selection.js';
import { SECRET_EVENT_NAMES } from '../../shared/steps/secret-sync/events.js';
import { HandlerFunction, secretArnPattern, secretsKeyDecrypt } from './handler-function.js';

/** Secrets Manager API calls (seen through CloudTrail) that change what a manifest should say. */
export const SECRET_CHANGE_EVENT_NAMES = SECRET_EVENT_NAMES.filter((name) => name !== 'RotationSucceeded');

/** A schedule rule runs at most once a minute; the interval is rounded up to whole minutes. */
export function syncScheduleMinutes(intervalSeconds: number): number {
  return Math.max(1, Math.ceil(intervalSeconds / 60));
}

export interface SecretSyncProps {
  /** The validated config: `secrets` selections and `secretSync.interval`. */
  readonly config: Config;
  /** The FIFO commit queue the manifests are written through. */
  readonly commitQueue: IQueue;
}

/**
 * Mirrors selected Secrets Manager secrets into External Secrets manifests: the secret-sync Lambda
 * runs on every secret change (CloudTrail via EventBridge), on successful rotations and on a
 * schedule, and sends file changes to the commit queue.
 */
export class SecretSync extends Construct {
  readonly handler: HandlerFunction;
  /** Events EventBridge could not deliver and asynchronous invocations that kept failing. */
  readonly deadLetterQueue: Queue;
  readonly rules: Rule[];

  constructor(scope: Construct, id: string, props: SecretSyncProps) {
    super(scope, id);
    const { config } = props;
    if (config.secrets.length === 0) {
      throw new Error(
        'SecretSync needs at least one entry in config.secrets; leave it out of the stack otherwise',
      );
    }
    this.deadLetterQueue = new Queue(this, 'dlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(this.deadLetterQueue).acknowledge({
        id,
        reason: 'This queue is itself the dead-letter queue of the secret-sync rules and function.',
      });
    }

    this.handler = new HandlerFunction(this, {
      name: 'secret-sync',
      config,
      timeout: Duration.minutes(2),
      deadLetterQueue: this.deadLetterQueue,
      environment: { [ENV.commitQueueUrl]: props.commitQueue.queueUrl },
    });
    props.commitQueue.grantSendMessages(this.handler);
    this.grantSecretAccess(config.secrets, config.aws?.secretsKmsKeyArns ?? []);

    const target = (): IRuleTarget =>
      new LambdaFunction(this.handler, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 4,
        maxEventAge: Duration.hours(2),
      });
    const changes = new Rule(this, 'secret-changes', {
      description: 'Shiplane: Secrets Manager changes (CloudTrail)',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventName: SECRET_CHANGE_EVENT_NAMES },
      },
    });
    const rotations = new Rule(this, 'secret-rotations', {
      description: 'Shiplane: successful Secrets Manager rotations',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: { eventName: ['RotationSucceeded'] },
      },
    });
    const schedule = new Rule(this, 'schedule', {
      description: 'Shiplane: periodic secret sync (catches anything the change events missed)',
      schedule: Schedule.rate(Duration.minutes(syncScheduleMinutes(config.secretSync.interval))),
    });
    this.rules = [changes, rotations, schedule];
    for (const rule of this.rules) rule.addTarget(target());
  }

  /**
   * ListSecrets cannot be scoped; DescribeSecret and GetSecretValue are limited to the selected
   * names, and values, for selections by tag, to secrets carrying those tags. The secrets' own
   * customer-managed keys (`aws.secretsKmsKeyArns`) decrypt through Secrets Manager only.
   */
  private grantSecretAccess(selections: readonly SecretSelection[], keyArns: readonly string[]): void {
    const stack = Stack.of(this);
    const list = new Policy(this, 'list-secrets', {
      statements: [new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] })],
    });
    this.handler.executionRole.attachInlinePolicy(list);
    Validations.of(list).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permissions; it returns metadata only, never values.',
    });

    const read = new Policy(this, 'read-selected-secrets');
    selections.forEach((selection, index) => {
      const name = selection.match ?? '*';
      const resources = [secretArnPattern(stack, name)];
      const tags = Object.entries(selection.tags ?? {}).flatMap(([field, value]) =>
        value === undefined
          ? []
          : [[`secretsmanager:ResourceTag/${SECRET_TAGS[field as keyof typeof SECRET_TAGS]}`, value]],
      );
      // Metadata of any secret the name admits (tags can change, so the function must see them)...
      read.addStatements(
        new PolicyStatement({
          sid: `DescribeSelection${index}`,
          actions: ['secretsmanager:DescribeSecret'],
          resources,
        }),
      );
      // ...but values only of the secrets that carry the selection's tags.
      read.addStatements(
        new PolicyStatement({
          sid: `ReadSelection${index}`,
          actions: ['secretsmanager:GetSecretValue'],
          resources,
          ...(tags.length > 0 ? { conditions: { StringEquals: Object.fromEntries(tags) } } : {}),
        }),
      );
      if (name.includes('*')) {
        Validations.of(read).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????]`,
          reason: selection.match
            ? `secrets[${index}].match is the name glob ${selection.match}: the function reads exactly the secrets it mirrors.`
            : `secrets[${index}] selects by tag only: any name, but values only of secrets carrying the tags.`,
        });
      }
    });
    const decrypt = secretsKeyDecrypt(stack, keyArns);
    if (decrypt) read.addStatements(decrypt);
    this.handler.executionRole.attachInlinePolicy(read);
  }
}
