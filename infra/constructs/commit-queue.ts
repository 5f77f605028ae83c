import { Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type CfnQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { QUEUE_METADATA_KEY } from '../../shared/contracts/handlers.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { HandlerFunction } from './handler-function.js';

/** The committer's time limit: a batch of up to 10 changes, each a few GitHub calls with retries. */
const COMMITTER_TIMEOUT = Duration.seconds(60);
/** A message that failed this often goes to the DLQ; the waiting run times out and sends it again. */
const MAX_RECEIVE_COUNT = 3;

export interface CommitQueueProps {
  /** The validated config, for the committer's environment and its GitHub credential. */
  readonly config: Config;
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
      // AWS advises six times the function timeout for an SQS event source.
      visibilityTimeout: Duration.seconds(COMMITTER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    (this.queue.node.defaultChild as CfnQueue).addMetadata(QUEUE_METADATA_KEY, 'commit');

    this.committer = new HandlerFunction(this, {
      name: 'committer',
      config: props.config,
      timeout: COMMITTER_TIMEOUT,
    });
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

  /** Lets the committer answer the runs of this state machine (SendTaskSuccess / SendTaskFailure). */
  allowTaskResponses(stateMachine: IStateMachine): void {
    this.committer.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [stateMachine.stateMachineArn],
      }),
    );
  }
}
