/**
 * Every change the Secrets Manager stand-in makes, recorded as the CloudTrail event EventBridge would
 * deliver (`AWS API Call via CloudTrail`, or `AWS Service Event via CloudTrail` for a rotation), in
 * CloudTrail's own shape: camelCase parameters, no secret values, DeleteSecret's date the Java way.
 */
import { randomUUID } from 'node:crypto';
import type { SecretsStore } from './store.js';

type Json = Record<string, unknown>;

/** An EventBridge event carrying a CloudTrail record, as the secret-sync rule receives it. */
export interface SecretsManagerEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'AWS API Call via CloudTrail' | 'AWS Service Event via CloudTrail';
  readonly source: 'aws.secretsmanager';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Json;
}

export type SecretsManagerEventListener = (event: SecretsManagerEvent) => void | Promise<void>;

/** Who made an API call, as CloudTrail notes it. */
export interface Caller {
  readonly sourceIPAddress: string;
  readonly userAgent: string;
}

/** CloudTrail never records secret values. */
const UNLOGGED = new Set(['SecretString', 'SecretBinary']);

const camel = (key: string) => key.charAt(0).toLowerCase() + key.slice(1);

/** API fields as CloudTrail writes them: camelCase keys, tags as {key, value}, no values. */
function cloudTrailShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloudTrailShape);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !UNLOGGED.has(key))
      .map(([key, inner]) => [camel(key), cloudTrailShape(inner)]),
  );
}

/** CloudTrail writes DeleteSecret's deletionDate the Java way: `Nov 27, 2025, 9:14:03 AM`. */
const javaDate = (epochSeconds: number) =>
  new Intl.DateTimeFormat('en-US', {
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
    hour12: true,
    timeZone: 'UTC',
  }).format(new Date(epochSeconds * 1000));

const isoSeconds = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

export class CloudTrailRecorder {
  /** Every change so far, oldest first. */
  readonly events: SecretsManagerEvent[] = [];
  private readonly listeners = new Set<SecretsManagerEventListener>();

  constructor(
    private readonly store: SecretsStore,
    private readonly now: () => Date,
  ) {}

  /** Calls `listener` after each change (like an EventBridge rule); returns the unsubscribe. */
  onEvent(listener: SecretsManagerEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records a successful API call that changed something. */
  apiCall(operation: string, input: Json, output: Json, caller: Caller, requestId: string): void {
    const { store } = this;
    const response = cloudTrailShape(output) as Json;
    if (typeof output.DeletionDate === 'number') response.deletionDate = javaDate(output.DeletionDate);
    const tagging = operation === 'TagResource' || operation === 'UntagResource';
    this.publish(
      this.envelope('AWS API Call via CloudTrail', {
        eventName: operation,
        userIdentity: {
          type: 'AssumedRole',
          principalId: 'AROALOCALSANDBOX:shiplane',
          arn: `arn:aws:sts::${store.accountId}:assumed-role/ShiplaneSandbox/shiplane`,
          accountId: store.accountId,
        },
        sourceIPAddress: caller.sourceIPAddress,
        userAgent: caller.userAgent,
        requestParameters: cloudTrailShape(input),
        responseElements: tagging ? null : response,
        requestID: requestId,
        eventType: 'AwsApiCall',
      }),
    );
  }

  /** Records the service finishing a rotation of the secret `arn`. */
  rotationSucceeded(arn: unknown): SecretsManagerEvent {
    const event = this.envelope('AWS Service Event via CloudTrail', {
      eventName: 'RotationSucceeded',
      userIdentity: { accountId: this.store.accountId, invokedBy: 'secretsmanager.amazonaws.com' },
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: arn },
      requestID: `Rotation-${String(arn)}-${randomUUID()}`,
      eventType: 'AwsServiceEvent',
    });
    this.publish(event);
    return event;
  }

  private publish(event: SecretsManagerEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) {
      // EventBridge delivers asynchronously; a failing target does not fail the API call.
      Promise.resolve()
        .then(() => listener(event))
        .catch((error: unknown) => {
          console.error(
            `secrets-manager stand-in: event listener failed: ${(error as Error).name}: ${(error as Error).message}`,
          );
        });
    }
  }

  private envelope(detailType: SecretsManagerEvent['detail-type'], detail: Json): SecretsManagerEvent {
    const { store } = this;
    const time = isoSeconds(this.now());
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source: 'aws.secretsmanager',
      account: store.accountId,
      time,
      region: store.region,
      resources: [],
      detail: {
        eventVersion: '1.11',
        eventTime: time,
        eventSource: 'secretsmanager.amazonaws.com',
        awsRegion: store.region,
        eventID: randomUUID(),
        readOnly: false,
        managementEvent: true,
        recipientAccountId: store.accountId,
        eventCategory: 'Management',
        ...detail,
      },
    };
  }
}
