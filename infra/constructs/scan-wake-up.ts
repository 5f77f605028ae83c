/**
 * The scan gate's wake-up: the scan-events function, which keeps the task tokens of runs waiting for
 * an image's scan (in its own scan waits table) and answers them when the scan ends,
 * and the EventBridge rules that bring it the `ECR Image Scan` (basic scanning) and `Inspector2 Scan`
 * (enhanced scanning, Amazon Inspector) events of the gated repositories. Only this function may
 * reach that table, and it may only SendTaskSuccess to the promotion state machine.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { ECR_SCAN_DONE, INSPECTOR_SCAN_DONE } from '../../shared/contracts/scan-events.js';
import { gatedRepositories } from '../../shared/steps/scan-gate/wake.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { HandlerFunction } from './handler-function.js';
import { ScanWaitsTable } from './scan-waits-table.js';

/** `ECR Image Scan` of a gated repository that ended (`repository-name` is the repository's name). */
export function ecrImageScanEventPattern(config: Config) {
  return {
    source: ['aws.ecr'],
    detailType: ['ECR Image Scan'],
    detail: { 'scan-status': [...ECR_SCAN_DONE], 'repository-name': gatedRepositories(config) },
  };
}

/** `Inspector2 Scan` of a gated repository's image: its `repository-name` is the repository's ARN. */
export function inspector2ScanEventPattern(config: Config, stack: Stack) {
  return {
    source: ['aws.inspector2'],
    detailType: ['Inspector2 Scan'],
    detail: {
      'scan-status': [...INSPECTOR_SCAN_DONE],
      'repository-name': gatedRepositories(config).map((name) =>
        stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: name }),
      ),
    },
  };
}

export interface ScanWakeUpProps {
  /** The validated config: some app has `scan`. */
  readonly config: Config;
}

export class ScanWakeUp extends Construct {
  readonly handler: HandlerFunction;
  readonly waits: ScanWaitsTable;
  readonly ecrRule: Rule;
  readonly inspectorRule: Rule;
  /** Events the function kept failing on (its poll still wakes the run). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ScanWakeUpProps) {
    super(scope, id);
    const { config } = props;
    if (gatedRepositories(config).length === 0) {
      throw new Error(
        'ScanWakeUp needs some app with a scan gate (apps.<name>.scan); leave it out otherwise',
      );
    }
    this.deadLetterQueue = deadLetterQueue(this);
    this.handler = new HandlerFunction(this, {
      name: 'scan-events',
      config,
      timeout: Duration.seconds(20),
      deadLetterQueue: this.deadLetterQueue,
    });
    this.waits = new ScanWaitsTable(this, 'waits');
    this.waits.grantWaits(this.handler);

    // A late wake-up is worth nothing (the run's next poll is at most one interval away): few retries, short age.
    const target = () =>
      new LambdaFunction(this.handler, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(5),
      });
    this.ecrRule = new Rule(this, 'ecr-image-scan', {
      description:
        'Shiplane: basic scans of the gated ECR repositories that ended (wakes runs at the scan gate)',
      eventPattern: ecrImageScanEventPattern(config),
    });
    this.ecrRule.addTarget(target());
    this.inspectorRule = new Rule(this, 'inspector2-scan', {
      description:
        'Shiplane: Amazon Inspector initial scans of the gated ECR repositories (wakes runs at the scan gate)',
      eventPattern: inspector2ScanEventPattern(config, Stack.of(this)),
    });
    this.inspectorRule.addTarget(target());
  }

  /**
   * SendTaskSuccess on the promotion state machine only. A separate policy, not the role's default
   * one: the state machine depends on the function, so a grant there would be a dependency cycle.
   */
  allowWaking(stateMachine: IStateMachine): void {
    new Policy(this, 'wake-runs', {
      roles: [this.handler.executionRole],
      statements: [
        new PolicyStatement({
          actions: ['states:SendTaskSuccess'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    });
  }
}
