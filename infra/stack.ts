import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Config } from '../shared/config/schema.js';
import { TARGETS } from '../shared/domain/delivery-metrics.js';
import { Alerting } from './constructs/alerting.js';
import { ApprovalsTable } from './constructs/approvals-table.js';
import { CommitQueue } from './constructs/commit-queue.js';
import { changeFailureRate, DeliveryDashboard } from './constructs/delivery-dashboard.js';
import { HandlerFunction } from './constructs/handler-function.js';
import { ImagePushIntake } from './constructs/image-push-intake.js';
import { ImageSweep } from './constructs/image-sweep.js';
import { PromotionStateMachine } from './constructs/promotion-state-machine.js';
import { RunRecordsTable } from './constructs/run-records-table.js';
import { SecretSync } from './constructs/secret-sync.js';
import { SlackInteractionEndpoint } from './constructs/slack-interaction-endpoint.js';

export interface ShiplaneStackProps extends StackProps {
  /** The validated config; the stack is generated from it. */
  readonly config: Config;
}

/** Everything Shiplane runs on, in one stack. */
export class ShiplaneStack extends Stack {
  readonly promotion: PromotionStateMachine;
  readonly intake: ImagePushIntake;
  /** Absent when `intake.sweep` is off. */
  readonly sweep: ImageSweep | undefined;
  readonly commitQueue: CommitQueue;
  readonly approvals: ApprovalsTable;
  readonly runRecords: RunRecordsTable;
  readonly slack: SlackInteractionEndpoint;
  readonly alerting: Alerting;
  readonly secretSync: SecretSync | undefined;
  readonly deliveryDashboard: DeliveryDashboard;

  constructor(scope: Construct, id: string, props: ShiplaneStackProps) {
    super(scope, id, {
      description: 'Shiplane: promote container images through GitOps environments',
      ...props,
    });
    const { config } = props;

    this.approvals = new ApprovalsTable(this, 'approvals');
    this.alerting = new Alerting(this, 'alerting', { config });
    this.commitQueue = new CommitQueue(this, 'commit-queue', { config, alerting: this.alerting });
    this.promotion = new PromotionStateMachine(this, 'promotion', {
      config,
      commitQueue: this.commitQueue.queue,
      approvals: this.approvals,
      alerting: this.alerting,
    });
    const { stateMachine } = this.promotion;
    this.runRecords = new RunRecordsTable(this, 'run-records');
    this.runRecords.grantRecord(this.promotion.notify);
    this.commitQueue.allowTaskResponses(stateMachine);
    this.intake = new ImagePushIntake(this, 'image-push-intake', {
      config,
      stateMachine,
      approvals: this.approvals,
    });
    this.sweep =
      config.intake.sweep === 'off'
        ? undefined
        : new ImageSweep(this, 'image-sweep', { config, stateMachine, approvals: this.approvals });
    this.slack = new SlackInteractionEndpoint(this, 'slack-interaction', {
      config,
      approvals: this.approvals,
      stateMachine,
    });
    this.secretSync =
      config.secrets.length > 0
        ? new SecretSync(this, 'secret-sync', { config, commitQueue: this.commitQueue.queue })
        : undefined;
    this.commitQueue.allowOnlySenders([
      stateMachine.role,
      ...(this.secretSync ? [this.secretSync.handler.executionRole] : []),
    ]);

    this.alerting.alarmOnStateMachine(stateMachine);
    this.alerting.alarmOnDeadLetterQueue('intake', this.intake.deadLetterQueue);
    this.alerting.alarmOnDeadLetterQueue('commit', this.commitQueue.deadLetterQueue);
    if (this.secretSync) this.alerting.alarmOnDeadLetterQueue('secret-sync', this.secretSync.deadLetterQueue);
    if (this.sweep) this.alerting.alarmOnDeadLetterQueue('sweep', this.sweep.deadLetterQueue);
    const scanWakeUp = this.promotion.scanWakeUp;
    if (scanWakeUp) this.alerting.alarmOnDeadLetterQueue('scan-events', scanWakeUp.deadLetterQueue);
    this.deliveryDashboard = new DeliveryDashboard(this, 'delivery-dashboard', {
      config,
      publisher: this.promotion.notify,
    });
    if (config.metrics.changeFailureAlarm === 'on') {
      // Production only: the change failure rate DORA means, and the one the target is about.
      const production = config.stages.at(-1)!.name;
      for (const app of Object.keys(config.apps)) {
        this.alerting.alarmOnChangeFailureRate(
          app,
          production,
          changeFailureRate(
            { app, stage: production, publisher: this.promotion.notify },
            Duration.days(7),
            config.metrics.changeFailureAlarmMinChanges,
          ),
          TARGETS.changeFailureRate.value * 100,
        );
      }
    }
    for (const fn of this.node.findAll()) {
      if (fn instanceof HandlerFunction) this.alerting.alarmOnFunction(fn.handlerName, fn);
    }

    new CfnOutput(this, 'SlackInteractionUrl', {
      description: 'The Slack app interactivity request URL',
      value: this.slack.url,
    });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn });
    new CfnOutput(this, 'AlertTopicArn', { value: this.alerting.topic.topicArn });
    new CfnOutput(this, 'ApprovalsTableName', {
      description: 'For shiplane approve / reject --table (or SHIPLANE_APPROVALS_TABLE)',
      value: this.approvals.table.tableName,
    });
    new CfnOutput(this, 'DeliveryDashboardName', {
      description: 'The CloudWatch dashboard of the delivery figures',
      value: this.deliveryDashboard.dashboard.dashboardName,
    });
    new CfnOutput(this, 'RunRecordsTableName', {
      description: 'For shiplane metrics --table (or SHIPLANE_RUN_RECORDS_TABLE)',
      value: this.runRecords.table.tableName,
    });
  }
}
