import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** A FIFO source queue needs a FIFO dead-letter queue. @default false */
  readonly fifo?: boolean;
}

/**
 * The dead-letter queue of one of Shiplane's queues: encrypted, TLS only, messages kept 14 days for
 * inspection and redrive by hand (the alerting construct alarms on anything arriving here).
 */
export function deadLetterQueue(scope: Construct, props: DeadLetterQueueProps = {}): Queue {
  const queue = new Queue(scope, 'dlq', {
    ...(props.fifo ? { fifo: true } : {}),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is itself the dead-letter queue; its messages are kept for inspection and redrive by hand.',
  });
  return queue;
}
