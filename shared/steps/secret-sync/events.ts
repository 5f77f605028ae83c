/**
 * The events that start a secret sync, as EventBridge delivers them: Secrets Manager API calls and
 * rotations recorded by CloudTrail, and the schedule that reconciles everything in case an event
 * was missed. Parsing turns one into a trigger naming the secret concerned.
 */

import { parseInput } from '../../contracts/parse.js';
import * as z from '../../contracts/zod.js';
import { nameFromSecretId } from '../../domain/secret-selection.js';
import { InvalidInputError } from '../../errors.js';

/** The Secrets Manager events the EventBridge rule forwards (the construct uses this list). */
export const SECRET_EVENT_NAMES = [
  'CreateSecret',
  'PutSecretValue',
  'UpdateSecret',
  'DeleteSecret',
  'RestoreSecret',
  'TagResource',
  'UntagResource',
  'RotationSucceeded',
] as const;
export type SecretEventName = (typeof SECRET_EVENT_NAMES)[number];

/** EventBridge detail-types of CloudTrail records: API calls, and service events such as rotation. */
export const CLOUDTRAIL_DETAIL_TYPES = [
  'AWS API Call via CloudTrail',
  'AWS Service Event via CloudTrail',
] as const;

export type SyncTrigger =
  | { readonly kind: 'schedule'; readonly at: Date }
  | {
      readonly kind: 'secret-event';
      readonly eventName: SecretEventName;
      /** As the event gives it: an ARN where the event has one, else the name the caller used. */
      readonly secretId: string;
      /** Best reading of the secret's name; DescribeSecret has the final word. */
      readonly name: string;
      readonly at: Date;
    }
  | { readonly kind: 'ignored'; readonly reason: string };

const record = z.record(z.string(), z.unknown());
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

const scheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z.iso.datetime({ offset: true }),
});

const cloudTrailEvent = z.looseObject({
  source: z.literal('aws.secretsmanager'),
  'detail-type': z.enum(CLOUDTRAIL_DETAIL_TYPES),
  time: z.iso.datetime({ offset: true }),
  resources: z.optional(z.array(z.string())),
  detail: z.looseObject({
    eventSource: z.literal('secretsmanager.amazonaws.com'),
    eventName: z.string().check(z.minLength(1)),
    eventTime: z.optional(z.iso.datetime({ offset: true })),
    // null on service events (RotationSucceeded) and on some failed calls.
    requestParameters: z.nullish(record),
    responseElements: z.nullish(record),
    additionalEventData: z.nullish(record),
    serviceEventDetails: z.nullish(record),
    errorCode: z.optional(z.string()),
  }),
});

export const secretSyncEventSchema = z.union([scheduledEvent, cloudTrailEvent], {
  error: 'expected an EventBridge Scheduled Event or a Secrets Manager event delivered by CloudTrail',
});
export type SecretSyncEvent = z.infer<typeof secretSyncEventSchema>;

const isSecretEventName = (name: string): name is SecretEventName =>
  (SECRET_EVENT_NAMES as readonly string[]).includes(name);

/** Reads the event; bad input is an InvalidInputError naming the field. */
export function parseSecretSyncEvent(input: unknown): SyncTrigger {
  const event = parseInput(secretSyncEventSchema, input, 'secret-sync event');
  if (event.source === 'aws.events') return { kind: 'schedule', at: new Date(event.time) };

  const { detail } = event;
  if (!isSecretEventName(detail.eventName)) {
    return { kind: 'ignored', reason: `${detail.eventName} does not change what a manifest says` };
  }
  if (detail.errorCode) {
    return { kind: 'ignored', reason: `${detail.eventName} failed (${detail.errorCode}); nothing changed` };
  }
  const request = detail.requestParameters ?? {};
  const response = detail.responseElements ?? {};
  // Before February 2024 some responses spelt the ARN "aRN".
  const arn = text(response.arn) ?? text(response.aRN) ?? text(response.ARN);
  const secretId =
    arn ??
    text(detail.additionalEventData?.SecretId) ??
    text(detail.serviceEventDetails?.secretId) ??
    text(detail.serviceEventDetails?.SecretId) ??
    text(request.secretId) ??
    text(request.name) ??
    event.resources?.find((resource) => resource.includes(':secretsmanager:'));
  if (!secretId) {
    throw new InvalidInputError(
      `secret-sync event is not valid: detail: ${detail.eventName} names no secret (no responseElements.arn, additionalEventData.SecretId or requestParameters.secretId)`,
    );
  }
  const name =
    text(response.name) ??
    (detail.eventName === 'CreateSecret' ? text(request.name) : undefined) ??
    nameFromSecretId(secretId);
  return {
    kind: 'secret-event',
    eventName: detail.eventName,
    secretId,
    name,
    at: new Date(detail.eventTime ?? event.time),
  };
}
