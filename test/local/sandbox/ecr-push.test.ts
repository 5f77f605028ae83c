import { describe, expect, it } from 'vitest';
import { digestFor, ecrPushEvent, imageTagProblem, sqsEventOf } from '../../../local/sandbox/ecr-push.js';
import { ecrImageActionEventSchema } from '../../../shared/steps/intake/ecr-event.js';

describe('the simulated ECR push', () => {
  it('is an EventBridge ECR Image Action event the intake schema accepts', () => {
    // Act
    const event = ecrPushEvent({ repository: 'itdo-erp/backend', tag: 'v2.1.6' });

    // Assess
    const parsed = ecrImageActionEventSchema.parse(event);
    expect(parsed.detail).toEqual({
      result: 'SUCCESS',
      'repository-name': 'itdo-erp/backend',
      'image-digest': digestFor('itdo-erp/backend', 'v2.1.6'),
      'action-type': 'PUSH',
      'image-tag': 'v2.1.6',
    });
  });

  it('gives the same tag the same digest, like pushing the same image again', () => {
    expect(digestFor('itdo-erp/backend', 'v2.1.6')).toBe(digestFor('itdo-erp/backend', 'v2.1.6'));
    expect(digestFor('itdo-erp/backend', 'v2.1.6')).not.toBe(digestFor('itdo-erp/backend', 'v2.1.7'));
    expect(digestFor('itdo-erp/backend', 'v2.1.6')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('arrives as the body of one SQS record, as the intake queue delivers it', () => {
    const event = ecrPushEvent({ repository: 'itdo-erp/frontend', tag: 'v1.9.0' });

    const sqs = sqsEventOf(event);

    expect(sqs.Records).toHaveLength(1);
    expect(sqs.Records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(JSON.parse(sqs.Records[0]?.body ?? '')).toEqual(event);
  });
});

describe('imageTagProblem', () => {
  it.each(['v2.1.7', 'v2.1.7-bad', '_build.42', 'A'.repeat(128)])('accepts %s', (tag) => {
    expect(imageTagProblem(tag)).toBeUndefined();
  });

  it('says what is wrong with a tag ECR would refuse', () => {
    expect(imageTagProblem('')).toBe('the tag is empty');
    expect(imageTagProblem('-v1')).toMatch(
      /^"-v1" is not an image tag: it starts with a letter, digit or "_"/,
    );
    expect(imageTagProblem('v1/2')).toMatch(/^"v1\/2" is not an image tag/);
    expect(imageTagProblem('v1:2')).toMatch(/is not an image tag/);
    expect(imageTagProblem('v'.repeat(129))).toMatch(/is 129 characters; an image tag has at most 128$/);
  });
});
