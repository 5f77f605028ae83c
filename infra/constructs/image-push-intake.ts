import { Duration, Validations } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { ENV } from '../../shared/contracts/environment.js';
import { tagOnlyStages } from '../../shared/domain/release.js';
import type { ApprovalsTable } from './approvals-table.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { HandlerFunction } from './handler-function.js';

const INTAKE_TIMEOUT = Duration.seconds(30);

/** The EventBridge pattern of a successful push to one of the configured ECR repositories. */
export function imagePushEventPattern(config: Config) {
  return {
    source: ['aws.ecr'],
    detailType: ['ECR Image Action'],
    detail: {
      'action-type': ['PUSH'],
      result: ['SUCCESS'],
      'repository-name': Object.values(config.apps).map((app) => app.ecrRepository),
    },
  };
}

export interface ImagePushIntakeProps {
  /** The validated config: which repositories start runs. */
  readonly config: Config;
  /** The promotion state machine the intake starts. */
  readonly stateMachine: IStateMachine;
  /**
   * Where the intake claims released tags (`release#…` items) when some stage deploys by tag alone
   * (`pinDigest: false`). Without such a stage the intake gets neither the table nor a grant.
   */
  readonly approvals: ApprovalsTable;
}

/**
 * ECR push → EventBridge rule → intake queue (+ DLQ) → intake Lambda → StartExecution. The queue
 * absorbs bursts and keeps events the intake could not handle.
 */
export class ImagePushIntake extends Construct {
  readonly rule: Rule;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly intake: HandlerFunction;

  constructor(scope: Construct, id: string, props: ImagePushIntakeProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this);
    this.queue = new Queue(this, 'queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(INTAKE_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
    });
    this.rule = new Rule(this, 'ecr-push', {
      description: 'Shiplane: successful image pushes to the configured ECR repositories',
      eventPattern: imagePushEventPattern(props.config),
    });
    // Events EventBridge cannot deliver land in the same DLQ as those the intake could not handle.
    this.rule.addTarget(
      new SqsQueue(this.queue, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      }),
    );

    const claimsReleases = tagOnlyStages(props.config).length > 0;
    this.intake = new HandlerFunction(this, {
      name: 'intake',
      config: props.config,
      timeout: INTAKE_TIMEOUT,
      environment: {
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        ...(claimsReleases ? { [ENV.approvalsTable]: props.approvals.table.tableName } : {}),
      },
    });
    if (claimsReleases) props.approvals.grantClaimReleases(this.intake);
    this.intake.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    props.stateMachine.grantStartExecution(this.intake);
    Validations.of(this.intake).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'An SQS event source has no on-failure destination; failed messages reach the DLQ through the queue redrive policy.',
    });
  }
}
