import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../shared/errors.js';
import { parseSecretSyncEvent, SECRET_EVENT_NAMES } from '../../../../shared/steps/secret-sync/events.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/secretsmanager/${name}`, import.meta.url), 'utf8'));

const DATABASE_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:itdo-erp/production/database-Xk3pQ9';
const STRIPE_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:itdo-erp/production/stripe-api-key-b7TqLm';
const REDIS_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:itdo-erp/production/redis-Rz81wA';

describe('parseSecretSyncEvent', () => {
  it('reads the schedule rule event as a full reconcile at its time', () => {
    expect(parseSecretSyncEvent(fixture('scheduled-event.json'))).toEqual({
      kind: 'schedule',
      at: new Date('2025-11-20T09:30:00Z'),
    });
  });

  it.each([
    ['create-secret.json', 'CreateSecret', REDIS_ARN, 'itdo-erp/production/redis'],
    ['put-secret-value.json', 'PutSecretValue', DATABASE_ARN, 'itdo-erp/production/database'],
    ['update-secret.json', 'UpdateSecret', DATABASE_ARN, 'itdo-erp/production/database'],
    ['delete-secret.json', 'DeleteSecret', STRIPE_ARN, 'itdo-erp/production/stripe-api-key'],
    ['delete-secret-before-2024.json', 'DeleteSecret', STRIPE_ARN, 'itdo-erp/production/stripe-api-key'],
    ['restore-secret.json', 'RestoreSecret', STRIPE_ARN, 'itdo-erp/production/stripe-api-key'],
    // TagResource and UntagResource have no responseElements: the request's secretId is all there is.
    ['tag-resource.json', 'TagResource', REDIS_ARN, 'itdo-erp/production/redis'],
    ['untag-resource.json', 'UntagResource', 'itdo-erp/production/redis', 'itdo-erp/production/redis'],
    // Rotation is a service event: requestParameters and responseElements are null.
    ['rotation-succeeded.json', 'RotationSucceeded', DATABASE_ARN, 'itdo-erp/production/database'],
  ])('reads %s as %s of the secret', (file, eventName, secretId, name) => {
    const event = fixture(file);

    const trigger = parseSecretSyncEvent(event);

    expect(trigger).toEqual({
      kind: 'secret-event',
      eventName,
      secretId,
      name,
      at: new Date((event.detail as { eventTime: string }).eventTime),
    });
  });

  it('covers every event name the rule forwards', () => {
    const files = [
      'create-secret.json',
      'put-secret-value.json',
      'update-secret.json',
      'delete-secret.json',
      'restore-secret.json',
      'tag-resource.json',
      'untag-resource.json',
      'rotation-succeeded.json',
    ];
    const names = files.map((file) => (fixture(file).detail as { eventName: string }).eventName);
    expect(new Set(names)).toEqual(new Set(SECRET_EVENT_NAMES));
  });

  it('ignores a read, which changes nothing a manifest says', () => {
    expect(parseSecretSyncEvent(fixture('get-secret-value.json'))).toEqual({
      kind: 'ignored',
      reason: 'GetSecretValue does not change what a manifest says',
    });
  });

  it('ignores a call that failed', () => {
    expect(parseSecretSyncEvent(fixture('put-secret-value-access-denied.json'))).toEqual({
      kind: 'ignored',
      reason: 'PutSecretValue failed (AccessDenied); nothing changed',
    });
  });

  it('reads the secret of a rotation event that carries it in serviceEventDetails', () => {
    const event = fixture('rotation-succeeded.json');
    const detail = event.detail as Record<string, unknown>;
    detail.additionalEventData = undefined;
    detail.serviceEventDetails = { secretId: DATABASE_ARN };

    expect(parseSecretSyncEvent(event)).toMatchObject({
      secretId: DATABASE_ARN,
      name: 'itdo-erp/production/database',
    });
  });

  it('refuses an event from another service, naming the field', () => {
    const event = { ...fixture('put-secret-value.json'), source: 'aws.ssm' };

    expect(() => parseSecretSyncEvent(event)).toThrow(InvalidInputError);
    expect(() => parseSecretSyncEvent(event)).toThrow(/secret-sync event is not valid/);
  });

  it('refuses a Secrets Manager event that names no secret', () => {
    const event = fixture('rotation-succeeded.json');
    (event.detail as Record<string, unknown>).additionalEventData = null;

    expect(() => parseSecretSyncEvent(event)).toThrow(/RotationSucceeded names no secret/);
  });

  it('refuses something that is not an EventBridge event', () => {
    expect(() => parseSecretSyncEvent({ Records: [] })).toThrow(InvalidInputError);
    expect(() => parseSecretSyncEvent(undefined)).toThrow(InvalidInputError);
  });
});
