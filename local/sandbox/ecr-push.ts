/**
 * Simulates what AWS delivers to the intake function when an image is pushed to ECR: the
 * EventBridge `ECR Image Action` event, as the body of an SQS message (the rule targets the
 * intake queue), in an SQS event batch of one.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { ECR_TAG } from '../../shared/domain/release.js';

export const SANDBOX_ACCOUNT = '123456789012';
export const SANDBOX_REGION = 'ap-northeast-1';

export interface ImagePush {
  readonly repository: string;
  readonly tag: string;
  /** @default a digest derived from repository and tag, so a repeated push is the same image */
  readonly digest?: string;
  readonly at?: Date;
}

/** Why `tag` cannot be pushed to ECR (the grammar the intake enforces), or `undefined` when it can. */
export function imageTagProblem(tag: string): string | undefined {
  if (ECR_TAG.test(tag)) return undefined;
  if (tag.length === 0) return 'the tag is empty';
  if (tag.length > 128)
    return `"${tag.slice(0, 20)}…" is ${tag.length} characters; an image tag has at most 128`;
  return `"${tag}" is not an image tag: it starts with a letter, digit or "_" and holds only letters, digits, ".", "_" and "-"`;
}

/** The image digest the sandbox gives a pushed tag: stable, like pushing the same image twice. */
export function digestFor(repository: string, tag: string): string {
  return `sha256:${createHash('sha256').update(`${repository}:${tag}`).digest('hex')}`;
}

/** The EventBridge event ECR emits for a successful push. */
export function ecrPushEvent(push: ImagePush): Record<string, unknown> {
  const at = push.at ?? new Date();
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: SANDBOX_ACCOUNT,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: SANDBOX_REGION,
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': push.repository,
      'image-digest': push.digest ?? digestFor(push.repository, push.tag),
      'action-type': 'PUSH',
      'image-tag': push.tag,
    },
  };
}

/** An SQS event whose one record carries `body` the way the intake queue delivers it. */
export function sqsEventOf(body: unknown, queueName = 'shiplane-intake'): SQSEvent {
  const text = JSON.stringify(body);
  const now = Date.now();
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: `sandbox-${randomUUID()}`,
        body: text,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(now),
          SenderId: 'AIDAIENQZJOLO23YVJ4VO',
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(text).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}:${queueName}`,
        awsRegion: SANDBOX_REGION,
      },
    ],
  };
}
