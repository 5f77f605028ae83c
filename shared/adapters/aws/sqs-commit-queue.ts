/**
 * Sends CommitRequests to the FIFO commit queue the committer reads. One message group per
 * repository and branch keeps one writer per branch; the deduplication id is derived from the
 * change, so the same file content sent twice within SQS's five-minute window is delivered once.
 */
import { createHash } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { messageGroupOf, type RepositoryBranch } from '../../config/tag-location.js';
import { parseInput } from '../../contracts/parse.js';
import { type CommitChange, commitRequestSchema } from '../../contracts/tasks.js';
import { type CommitQueue, CommitRequestTooLargeError } from '../../ports/commit-queue.js';

/** SQS's message size limit (256 KiB). */
export const MAX_MESSAGE_BYTES = 262_144;

/** `<repository>#<branch>`: the committer handles one group at a time, in order. */
export function messageGroupId(repository: string, branch: string): string {
  return messageGroupOf({ repository, branch });
}

/**
 * The same change gives the same id: for a file, its path and content (a deletion hashes as such),
 * so two syncs that render identical bytes collapse into one message. SQS deduplicates across the
 * whole queue, so a file's repository and branch are part of it when they are not the default ones:
 * the same bytes at the same path in another repository are another change.
 */
export function deduplicationId(change: CommitChange, target?: RepositoryBranch): string {
  const hash = createHash('sha256');
  if (target) hash.update(`target\0${messageGroupOf(target)}\0`);
  if (change.kind === 'file') {
    hash.update(`file\0${change.file}\0`);
    hash.update(change.content === null ? 'deleted\0' : `content\0${change.content}`);
  } else {
    hash.update(`change\0${JSON.stringify(change)}`);
  }
  return hash.digest('hex');
}

export function sqsCommitQueue(client: SQSClient, queueUrl: string): CommitQueue {
  return {
    async send(request) {
      const body = JSON.stringify(parseInput(commitRequestSchema, request, 'commit request'));
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > MAX_MESSAGE_BYTES) {
        throw new CommitRequestTooLargeError(
          `the commit request for ${request.change.file} is ${bytes} bytes; an SQS message holds ${MAX_MESSAGE_BYTES}`,
        );
      }
      const id = deduplicationId(request.change, request);
      const output = await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: messageGroupId(request.repository, request.branch),
          MessageDeduplicationId: id,
        }),
      );
      return { messageId: output.MessageId ?? '', deduplicationId: id };
    },
  };
}
