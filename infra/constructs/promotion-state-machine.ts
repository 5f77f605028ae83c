import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { ENV } from '../../shared/contracts/environment.js';
import type { Alerting } from './alerting.js';
import type { ApprovalsTable } from './approvals-table.js';
import { HandlerFunction } from './handler-function.js';
import { PromotionDefinition } from './promotion-definition.js';
import { ScanWakeUp } from './scan-wake-up.js';

// The state names are the definition's; the sandbox and the tests read them from here too.
export {
  manualRollbackStateNames,
  maxPollAttempts,
  maxScanPollAttempts,
  RUN_STATE_NAMES,
  type StageStateNames,
  scanGateStartName,
  stageStateNames,
  stageTitle,
} from './promotion-definition.js';
export { COMMIT_TIMEOUT_SECONDS, LAMBDA_TRANSIENT_ERRORS } from './task-retries.js';

export interface PromotionStateMachineProps {
  /** The validated config; the states are generated from `config.stages`. */
  readonly config: Config;
  /** The FIFO commit queue the `Commit new tag` states write to. */
  readonly commitQueue: IQueue;
  /** Approvals and release threads; request-approval and notify read and write single items. */
  readonly approvals: ApprovalsTable;
  /** The alert topic notify publishes trouble to. */
  readonly alerting: Alerting;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

/**
 * The promotion workflow as deployed: the task functions its definition invokes (argocd-health,
 * notify and, when a stage needs approval, request-approval) with their grants, the log group, and
 * the Standard StateMachine running PromotionDefinition (the states, in promotion-definition.ts).
 */
export class PromotionStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly argocdHealth: HandlerFunction;
  readonly notify: HandlerFunction;
  /** Only when some stage has `approval`. */
  readonly requestApproval: HandlerFunction | undefined;
  /** Only when some app has `scan`. */
  readonly scanGate: HandlerFunction | undefined;
  /** Only when some stage has `freeze` windows; it needs no AWS permission. */
  readonly freezeCheck: HandlerFunction | undefined;
  /** Only when some stage has `pullRequest`. */
  readonly pullRequest: HandlerFunction | undefined;
  /** Only when some app has `scan`: the events that wake runs waiting at the gate. */
  readonly scanWakeUp: ScanWakeUp | undefined;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PromotionStateMachineProps) {
    super(scope, id);
    const { config } = props;
    const github = config.gitops.github;
    const stack = Stack.of(this);

    // It asks Argo CD, and GitHub, which may be reachable only from the config's aws.vpc.
    this.argocdHealth = new HandlerFunction(this, {
      name: 'argocd-health',
      config,
      callsGitOpsServers: true,
    });
    // It checks that the deployed revision contains our commit, which asks GitHub.
    this.argocdHealth.grantSecretRead(config.argocd.token, github.token, github.app?.privateKey);

    this.notify = new HandlerFunction(this, {
      name: 'notify',
      config,
      environment: {
        [ENV.approvalsTable]: props.approvals.table.tableName,
        [ENV.alertTopicArn]: props.alerting.topic.topicArn,
      },
    });
    // notify keeps each release's Slack thread in the approvals table.
    props.approvals.grantItemReadWrite(this.notify);
    props.alerting.grantPublish(this.notify);
    this.notify.grantSecretRead(config.slack.botToken);
    const repositories = Object.values(config.apps).map((app) =>
      stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: app.ecrRepository }),
    );
    // Once per run it reads the image's config blob (its OCI labels), so lead time counts from the build.
    this.notify.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: repositories,
      }),
    );

    if (config.stages.some((stage) => stage.approval)) {
      const requestApproval = new HandlerFunction(this, {
        name: 'request-approval',
        config,
        environment: { [ENV.approvalsTable]: props.approvals.table.tableName },
      });
      // It reads the approval it may be retrying and the tag last deployed, and writes the approval.
      props.approvals.grantItemReadWrite(requestApproval);
      requestApproval.grantSecretRead(config.slack.botToken);
      // The approval message shows the image's size and its scan's finding counts (DescribeImages
      // carries the summary; the findings themselves are the scan gate's alone).
      requestApproval.addToRolePolicy(
        new PolicyStatement({
          actions: ['ecr:DescribeImages'],
          resources: repositories,
        }),
      );
      this.requestApproval = requestApproval;
    } else {
      this.requestApproval = undefined;
    }

    const scanned = Object.values(config.apps).filter((app) => app.scan);
    if (scanned.length > 0) {
      const scanGate = new HandlerFunction(this, { name: 'scan-gate', config });
      // The one function that reads scan findings, and only of the repositories whose apps have a gate.
      scanGate.addToRolePolicy(
        new PolicyStatement({
          actions: ['ecr:DescribeImageScanFindings'],
          resources: scanned.map((app) =>
            stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: app.ecrRepository }),
          ),
        }),
      );
      this.scanGate = scanGate;
      this.scanWakeUp = new ScanWakeUp(this, 'scan-wake-up', { config });
    } else {
      this.scanGate = undefined;
      this.scanWakeUp = undefined;
    }

    this.freezeCheck = config.stages.some((stage) => stage.freeze.length > 0)
      ? new HandlerFunction(this, { name: 'freeze-check', config })
      : undefined;
    if (config.stages.some((stage) => stage.pullRequest)) {
      // It writes the release's branch and pull request on GitHub, which may be reachable only from aws.vpc.
      const pullRequest = new HandlerFunction(this, {
        name: 'pull-request',
        config,
        timeout: Duration.seconds(60),
        callsGitOpsServers: true,
      });
      pullRequest.grantSecretRead(github.token, github.app?.privateKey);
      this.pullRequest = pullRequest;
    } else {
      this.pullRequest = undefined;
    }

    this.logGroup = new LogGroup(this, 'logs', {
      // Under /aws/vendedlogs/: Step Functions then needs no log resource policy of its own, whose
      // 5,120-character limit an account with many log deliveries reaches, failing the deployment.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-promotion`,
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
    });
    const definition = new PromotionDefinition(this, 'definition', {
      config,
      commitQueue: props.commitQueue,
      argocdHealth: this.argocdHealth,
      notify: this.notify,
      requestApproval: this.requestApproval,
      scanGate: this.scanGate,
      freezeCheck: this.freezeCheck,
      pullRequest: this.pullRequest,
      scanEvents: this.scanWakeUp?.handler,
    });
    this.stateMachine = new StateMachine(this, 'state-machine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition.start),
      comment: `Shiplane: promote a pushed image through ${config.stages.map((s) => s.name).join(' → ')}`,
      // Execution data (task tokens, approval payloads) stays in the IAM-guarded history unless the config asks.
      logs: {
        destination: this.logGroup,
        level: LogLevel.ALL,
        includeExecutionData: config.observability.logExecutionData,
      },
      tracingEnabled: true,
    });

    this.scanWakeUp?.allowWaking(this.stateMachine);
    if (this.requestApproval) {
      // A newer release's request fails an older run's approval task (Shiplane.Superseded). A
      // separate policy, not the role's default one: the function depends on its default policy and
      // the state machine on the function, so a grant there would be a dependency cycle.
      new Policy(this, 'request-approval-supersede', {
        roles: [this.requestApproval.executionRole],
        statements: [
          new PolicyStatement({
            actions: ['states:SendTaskFailure'],
            resources: [this.stateMachine.stateMachineArn],
          }),
        ],
      });
    }

    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray (xray:PutTraceSegments) have no resource-level permissions.',
    });
    for (const fn of [
      this.argocdHealth,
      this.notify,
      this.requestApproval,
      this.scanGate,
      this.freezeCheck,
      this.pullRequest,
      this.scanWakeUp?.handler,
    ]) {
      if (!fn) continue;
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(fn)}.Arn>:*]`,
        reason:
          'lambda:InvokeFunction on the function and its versions/aliases (the `:*` qualifier), as the Step Functions Lambda integration grants it.',
      });
    }
  }

  private logicalIdOf(fn: HandlerFunction): string {
    return Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement);
  }
}
