import { ArnFormat, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type CfnQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { ENV } from '../../shared/contracts/environment.js';
import { QUEUE_METADATA_KEY } from '../../shared/contracts/handlers.js';
import type { Alerting } from './alerting.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { HandlerFunction } from './handler-function.js';
import { COMMIT_TIMEOUT_SECONDS } from './task-retries.js';

/**
 * The committer's time limit: a batch of up to 10 changes, each a few GitHub calls with retries. The
 * committer fits every wait (GitHub rate limits, retries, conflict back-off) inside it and hands the
 * batch back to SQS when it cannot.
 */
export const COMMITTER_TIMEOUT = Duration.seconds(60);
/** AWS advises six times the function timeout for an SQS event source (and refuses less than one). */
export const COMMIT_QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(COMMITTER_TIMEOUT.toSeconds() * 6);
/** A message that failed this often goes to the DLQ; the waiting run times out and sends it again. */
const MAX_RECEIVE_COUNT = 3;

export interface CommitQueueProps {
  /** The validated config, for the committer's environment and its GitHub credential. */
  readonly config: Config;
  /** Alarms on the committer's refusals (its metrics), to the alert topic. */
  readonly alerting: Alerting;
}

/**
 * The one writer to the GitOps repository: a FIFO queue (message group = repository#branch, so
 * commits to a branch never race) drained by the committer Lambda, which batches up to 10 changes
 * into one commit and answers waiting runs through their task tokens.
 */
export class CommitQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly committer: HandlerFunction;

  constructor(scope: Construct, id: string, props: CommitQueueProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, { fifo: true });
    this.queue = new Queue(this, 'queue', {
      fifo: true,
      // The body carries the run's unique task token, so identical bodies really are duplicates.
      contentBasedDeduplication: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: COMMIT_QUEUE_VISIBILITY_TIMEOUT,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    (this.queue.node.defaultChild as CfnQueue).addMetadata(QUEUE_METADATA_KEY, 'commit');

    this.committer = new HandlerFunction(this, {
      name: 'committer',
      config: props.config,
      timeout: COMMITTER_TIMEOUT,
      // It writes to GitHub (Enterprise), which may be reachable only from the config's aws.vpc.
      callsGitOpsServers: true,
      environment: {
        // Nothing is written after the waiting run's commit task times out.
        [ENV.commitTaskTimeoutSeconds]: String(COMMIT_TIMEOUT_SECONDS),
      },
    });
    // The committer publishes nothing itself: these alarms are its alert for a refused change.
    props.alerting.alarmOnCommitterRefusals(this.committer);
    this.committer.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    const { github } = props.config.gitops;
    this.committer.grantSecretRead(github.token, github.app?.privateKey);
    Validations.of(this.committer).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'An SQS event source has no on-failure destination; failed messages reach the FIFO DLQ through the queue redrive policy.',
    });
  }

  /**
   * Lets the committer answer the runs of this state machine (SendTaskSuccess / SendTaskFailure) and
   * check, before writing, that the run a change names is running, promotes that release
   * (DescribeExecution) and waits for exactly that change (GetExecutionHistory: its pending commit
   * task's parameters) — on this state machine's executions only. No dependency cycle: the state
   * machine depends on the queue, never on the committer or its policy.
   */
  allowTaskResponses(stateMachine: StateMachine): void {
    this.committer.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [stateMachine.stateMachineArn],
      }),
    );
    this.committer.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.committer.addEnvironment(ENV.stateMachineArn, stateMachine.stateMachineArn);
    Validations.of(this.committer.executionRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${this.logicalIdOf(stateMachine)}.Name>:*]`,
      reason:
        'states:DescribeExecution and states:GetExecutionHistory on the executions of the promotion state machine only: execution names are only known at run time.',
    });
  }

  /**
   * Only these roles may send to the queue (the state machine's and secret sync's): an explicit Deny
   * for every other principal, whatever its own IAM policies allow. It lives in the queue policy, a
   * resource of its own, so the roles (and the state machine behind them) never depend on the queue's
   * policy and the queue never depends on them.
   */
  allowOnlySenders(roles: readonly IRole[]): void {
    if (roles.length === 0) throw new Error('CommitQueue.allowOnlySenders needs at least one role');
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyShiplaneSenders',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': roles.map((role) => role.roleArn) } },
      }),
    );
  }

  private logicalIdOf(stateMachine: StateMachine): string {
    return Stack.of(this).getLogicalId(stateMachine.node.defaultChild as CfnElement);
  }
}
