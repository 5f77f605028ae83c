import { describe, expect, it } from 'vitest';
import { ecrImageActionEventSchema } from '../../../functions/intake/schema.js';
import { digestFor, ecrPushEvent, sqsEventOf } from '../../../local/sandbox/ecr-push.js';

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
