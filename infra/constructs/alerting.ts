import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Grant, type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { type HandlerFunction, METRICS_NAMESPACE } from './handler-function.js';

export interface AlertingProps {
  /** The validated config: `alerts.email` become subscriptions. */
  readonly config: Config;
}

/**
 * The alert topic (KMS-encrypted, TLS only) with the configured email subscriptions, and the
 * CloudWatch alarms that publish to it.
 */
export class Alerting extends Construct {
  readonly topic: Topic;
  readonly key: Key;
  /** Where SNS puts alerts it could not deliver to a subscriber. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.key = new Key(this, 'key', {
      description: 'Shiplane alert topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the encrypted topic as the CloudWatch service.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'topic', {
      displayName: 'Shiplane alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.deadLetterQueue = new Queue(this, 'dlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the alert subscriptions.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is itself the dead-letter queue of the alert subscriptions.',
    });
    for (const email of props.config.alerts.email) {
      this.topic.addSubscription(new EmailSubscription(email, { deadLetterQueue: this.deadLetterQueue }));
    }
    this.alarmOnDeadLetterQueue('alerts', this.deadLetterQueue);
  }

  /** sns:Publish on the topic and the two KMS actions publishing to an encrypted topic needs. */
  grantPublish(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: ['sns:Publish'], resourceArns: [this.topic.topicArn] });
    this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
  }

  /** Failed and timed-out executions. Rejected and expired runs succeed, so they never alarm. */
  alarmOnStateMachine(stateMachine: StateMachine): void {
    this.alarm(
      'executions-failed',
      stateMachine.metricFailed({ period: Duration.minutes(5) }),
      'A promotion run failed',
    );
    this.alarm(
      'executions-timed-out',
      stateMachine.metricTimedOut({ period: Duration.minutes(5) }),
      'A promotion run timed out',
    );
  }

  /** Any message in a dead-letter queue is something nobody handled. */
  alarmOnDeadLetterQueue(name: string, queue: IQueue): void {
    this.alarm(
      `${name}-dlq-messages`,
      queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      `Messages are waiting in the ${name} dead-letter queue`,
    );
  }

  /**
   * The committer's refusals, its alert for them (functions/committer/handler.ts counts them): a
   * change its run may not write (ChangesRefused: forged, stale, or not what the run approved) and a
   * message that is no valid commit request or one the config refuses (CommitRequestsInvalid). Each
   * refusal is in the committer's log with its reason and SQS message id; a run that waited on a
   * refused change is also failed with the reason, which notify sends to this topic.
   */
  alarmOnCommitterRefusals(committer: HandlerFunction): void {
    const refusals = [
      [
        'committer-changes-refused',
        'ChangesRefused',
        'The committer refused a change its run may not write',
        'a change was refused',
      ],
      [
        'committer-invalid-requests',
        'CommitRequestsInvalid',
        'The committer received a commit request that is not valid or that the config refuses',
        'commit queue message is not',
      ],
    ] as const;
    for (const [id, metricName, description, logLine] of refusals) {
      this.alarm(
        id,
        new Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: committer.serviceName },
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
        `${description}; nothing was written for it. The ${committer.handlerName} log has each one with its reason and SQS message id ("${logLine}…").`,
      );
    }
  }

  /** Errors of a function (a task that threw, a handler that crashed). */
  alarmOnFunction(name: string, fn: IFunction): void {
    this.alarm(
      `${name}-errors`,
      fn.metricErrors({ period: Duration.minutes(5) }),
      `The ${name} function reported errors`,
    );
  }

  /**
   * An app's change failure rate in a stage (a percentage, from delivery-dashboard.ts's
   * changeFailureRate) above `thresholdPercent`. Weeks with too few changes read 0 and never alarm.
   */
  alarmOnChangeFailureRate(app: string, stage: string, rate: IMetric, thresholdPercent: number): void {
    this.alarm(
      `${app}-${stage}-change-failure-rate`,
      rate,
      `The change failure rate of ${app} in ${stage} over 7 days is above ${thresholdPercent}%`,
      { threshold: thresholdPercent, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD },
    );
  }

  private alarm(
    id: string,
    metric: IMetric,
    description: string,
    { threshold = 1, comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD } = {},
  ): void {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `Shiplane: ${description}`,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
  }
}
