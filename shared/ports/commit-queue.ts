/**
 * The commit queue the committer reads: the state machine and secret sync send CommitRequests to it.
 * SQS FIFO in AWS (shared/adapters/aws/sqs-commit-queue.ts), one message group per repository and
 * branch; the local engine keeps its own FIFO queue.
 */
import type { CommitRequest } from '../contracts/tasks.js';

/** A change too large for one SQS message: nothing was sent. */
export class CommitRequestTooLargeError extends Error {
  override name = 'CommitRequestTooLargeError';
}

export interface QueuedCommit {
  readonly messageId: string;
  readonly deduplicationId: string;
}

export interface CommitQueue {
  send(request: CommitRequest): Promise<QueuedCommit>;
}
