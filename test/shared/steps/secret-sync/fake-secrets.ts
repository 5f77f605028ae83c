/**
 * Test helpers: a set of secrets served through aws-sdk-client-mock the way Secrets Manager would
 * answer (ListSecrets with name-prefix filtering and pages, DescribeSecret, GetSecretValue by
 * version), and readers for what was sent to the commit queue.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { CommitRequest } from '../../../../shared/contracts/tasks.js';

/** Mocks of every SecretsManagerClient and SQSClient instance; reset them in afterEach. */
export const sm = mockClient(SecretsManagerClient);
export const sqs = mockClient(SQSClient);

export interface FakeSecret {
  name: string;
  versionId?: string;
  value?: string;
  tags?: Record<string, string>;
  lastChangedAt?: Date;
  deletedAt?: Date;
}

/** ARN suffixes of the secrets in test/fixtures/secretsmanager, so fixture events find them. */
const FIXTURE_SUFFIXES: Record<string, string> = {
  'itdo-erp/production/database': 'Xk3pQ9',
  'itdo-erp/production/stripe-api-key': 'b7TqLm',
  'itdo-erp/production/redis': 'Rz81wA',
};

export const arnOf = (name: string) =>
  `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-${FIXTURE_SUFFIXES[name] ?? 'AbC123'}`;

const entryOf = (secret: FakeSecret) => ({
  ARN: arnOf(secret.name),
  Name: secret.name,
  Tags: Object.entries(secret.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  LastChangedDate: secret.lastChangedAt,
  DeletedDate: secret.deletedAt,
});

const versionsOf = (secret: FakeSecret) => (secret.versionId ? { [secret.versionId]: ['AWSCURRENT'] } : {});

/**
 * Serves `listed` from ListSecrets and `described` (defaulting to the same) from DescribeSecret
 * and GetSecretValue, so a test can make ListSecrets lag behind as it does for minutes in AWS.
 */
export function serveSecrets(listed: readonly FakeSecret[], described: readonly FakeSecret[] = listed): void {
  const find = (id: string | undefined) =>
    described.find((secret) => secret.name === id || arnOf(secret.name) === id);
  const notFound = () =>
    new ResourceNotFoundException({
      $metadata: {},
      message: "Secrets Manager can't find the specified secret.",
    });
  sm.on(ListSecretsCommand).callsFake((input: { Filters?: Array<{ Key: string; Values: string[] }> }) => {
    const prefix = input.Filters?.find((filter) => filter.Key === 'name')?.Values[0] ?? '';
    return {
      SecretList: listed
        .filter((secret) => secret.name.startsWith(prefix))
        .map((secret) => ({ ...entryOf(secret), SecretVersionsToStages: versionsOf(secret) })),
    };
  });
  sm.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => {
    const secret = find(input.SecretId);
    if (!secret) throw notFound();
    return { ...entryOf(secret), VersionIdsToStages: versionsOf(secret) };
  });
  sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string; VersionId?: string }) => {
    const secret = find(input.SecretId);
    if (!secret || secret.versionId !== input.VersionId) throw notFound();
    return {
      ARN: arnOf(secret.name),
      Name: secret.name,
      VersionId: secret.versionId,
      SecretString: secret.value,
    };
  });
}

/** The CommitRequests sent to the queue, in order. */
export function sentRequests(): CommitRequest[] {
  return sqs
    .commandCalls(SendMessageCommand)
    .map((call) => JSON.parse(String((call.args[0].input as { MessageBody: string }).MessageBody)));
}
