import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { ENV } from '../../shared/contracts/environment.js';
import { tagOnlyStages } from '../../shared/domain/release.js';
import type { ApprovalsTable } from './approvals-table.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { HandlerFunction } from './handler-function.js';

/** A schedule rule runs at most once a minute; the period is rounded up to whole minutes. */
export function sweepScheduleMinutes(periodSeconds: number): number {
  return Math.max(1, Math.ceil(periodSeconds / 60));
}

export interface ImageSweepProps {
  /** The validated config: the repositories to list and `intake.sweep` (not `off`). */
  readonly config: Config;
  /** The promotion state machine the sweep starts, as the intake does. */
  readonly stateMachine: IStateMachine;
  /** Where released tags are claimed when some stage deploys by tag alone (as for the intake). */
  readonly approvals: ApprovalsTable;
}

/**
 * Schedule (every `intake.sweep`) → sweep Lambda → DescribeImages on the configured repositories →
 * StartExecution for pushes whose ECR event never reached the intake. It may only describe the
 * configured repositories and start the promotion state machine.
 */
export class ImageSweep extends Construct {
  readonly rule: Rule;
  readonly handler: HandlerFunction;
  /** Scheduled invocations that kept failing. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ImageSweepProps) {
    super(scope, id);
    const { config } = props;
    const period = config.intake.sweep;
    if (period === 'off') {
      throw new Error(
        'ImageSweep needs intake.sweep to be a duration; leave it out of the stack when it is off',
      );
    }
    this.deadLetterQueue = deadLetterQueue(this);
    const claimsReleases = tagOnlyStages(config).length > 0;
    this.handler = new HandlerFunction(this, {
      name: 'sweep',
      config,
      timeout: Duration.minutes(2),
      deadLetterQueue: this.deadLetterQueue,
      environment: {
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        ...(claimsReleases ? { [ENV.approvalsTable]: props.approvals.table.tableName } : {}),
      },
    });
    if (claimsReleases) props.approvals.grantClaimReleases(this.handler);
    props.stateMachine.grantStartExecution(this.handler);
    const stack = Stack.of(this);
    this.handler.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecr:DescribeImages'],
        resources: Object.values(config.apps).map((app) =>
          stack.formatArn({
            service: 'ecr',
            resource: 'repository',
            resourceName: app.ecrRepository,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ),
      }),
    );

    this.rule = new Rule(this, 'schedule', {
      description: 'Shiplane: sweep recent ECR pushes for runs the intake missed',
      schedule: Schedule.rate(Duration.minutes(sweepScheduleMinutes(period))),
    });
    // A failed sweep is harmless to repeat (it starts nothing twice); the next schedule tries anyway.
    this.rule.addTarget(
      new LambdaFunction(this.handler, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(sweepScheduleMinutes(period)),
      }),
    );
  }
}
