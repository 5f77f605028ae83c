import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deduplicationId,
  MAX_MESSAGE_BYTES,
  messageGroupId,
  sqsCommitQueue,
} from '../../../../shared/adapters/aws/sqs-commit-queue.js';
import type { CommitRequest } from '../../../../shared/contracts/tasks.js';
import { InvalidInputError } from '../../../../shared/errors.js';
import { CommitRequestTooLargeError } from '../../../../shared/ports/commit-queue.js';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/shiplane-commits.fifo';

const request = (
  content: string | null,
  summary = 'Sync external secrets for production (1 changed)',
): CommitRequest => ({
  repository: 'itdo-erp/itdo-erp-infrastructure',
  branch: 'main',
  change: {
    kind: 'file',
    stage: 'production',
    file: 'environments/production/external-secrets.yaml',
    content,
    summary,
  },
});

describe('sqsCommitQueue', () => {
  it('sends the request as the body, grouped by repository and branch, deduplicated by file and content', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'b1f6a1c2-0c2e-4a52-9d0e-6f5a2c1d7e88' });
    const queue = sqsCommitQueue(new SQSClient({}), QUEUE_URL);

    // Act
    const queued = await queue.send(request('# header\n'));

    // Assess
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: JSON.stringify(request('# header\n')),
      MessageGroupId: 'itdo-erp/itdo-erp-infrastructure#main',
      MessageDeduplicationId: deduplicationId(request('# header\n').change, request('# header\n')),
    });
    expect(input?.MessageBody).not.toContain('taskToken');
    expect(queued).toEqual({
      messageId: 'b1f6a1c2-0c2e-4a52-9d0e-6f5a2c1d7e88',
      deduplicationId: input?.MessageDeduplicationId,
    });
  });

  it('refuses a request that breaks the contract, and sends nothing', async () => {
    const queue = sqsCommitQueue(new SQSClient({}), QUEUE_URL);
    const bad = { ...request('x'), repository: 'not-a-repository' };

    await expect(queue.send(bad)).rejects.toThrow(InvalidInputError);
    await expect(queue.send(bad)).rejects.toThrow(/repository/);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('refuses a file too large for one message, and sends nothing', async () => {
    const queue = sqsCommitQueue(new SQSClient({}), QUEUE_URL);

    await expect(queue.send(request('x'.repeat(MAX_MESSAGE_BYTES)))).rejects.toThrow(
      CommitRequestTooLargeError,
    );
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});

describe('deduplicationId', () => {
  it('is the same for the same file and content, whatever the summary', () => {
    const a = deduplicationId(request('content').change);
    const b = deduplicationId(
      request('content', 'Sync external secrets for production (scheduled reconcile)').change,
    );

    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for other content, another file, or a deletion', () => {
    const base = request('content').change;
    const ids = new Set([
      deduplicationId(base),
      deduplicationId(request('other content').change),
      deduplicationId({ ...base, file: 'environments/staging/external-secrets.yaml' }),
      deduplicationId(request(null).change),
      deduplicationId(request('').change),
    ]);

    expect(ids.size).toBe(5);
  });

  it('differs for the same file and content in another repository or branch', () => {
    const { change, repository, branch } = request('content');
    const ids = new Set([
      deduplicationId(change, { repository, branch }),
      deduplicationId(change, { repository: 'itdo-erp/itdo-erp-production', branch }),
      deduplicationId(change, { repository, branch: 'release' }),
    ]);

    expect(ids.size).toBe(3);
  });
});

describe('messageGroupId', () => {
  it('is repository#branch', () => {
    expect(messageGroupId('itdo-erp/itdo-erp-infrastructure', 'main')).toBe(
      'itdo-erp/itdo-erp-infrastructure#main',
    );
  });
});
