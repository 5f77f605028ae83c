import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsManagerInventory, shapeOf } from '../../../../shared/adapters/aws/secrets-inventory.js';
import {
  SecretAccessDeniedError,
  SecretsInventoryError,
} from '../../../../shared/ports/secrets-inventory.js';

const sm = mockClient(SecretsManagerClient);
afterEach(() => sm.reset());

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:itdo-erp/production/database-Xk3pQ9';
const PASSWORD = 'v3ry-s3cret-Passw0rd!';

const serviceError = (name: string) =>
  new SecretsManagerServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: name,
  });

describe('secretsManagerInventory.list', () => {
  it('follows NextToken through every page and includes secrets scheduled for deletion', async () => {
    // Prepare
    sm.on(ListSecretsCommand)
      .resolvesOnce({
        SecretList: [
          {
            ARN,
            Name: 'itdo-erp/production/database',
            Tags: [{ Key: 'shiplane:namespace', Value: 'itdo-erp' }],
            SecretVersionsToStages: { 'v-old': ['AWSPREVIOUS'], 'v-new': ['AWSCURRENT', 'AWSPENDING'] },
            LastChangedDate: new Date('2025-11-20T09:14:03Z'),
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        SecretList: [
          {
            ARN: `${ARN}x`,
            Name: 'itdo-erp/production/stripe-api-key',
            DeletedDate: new Date('2025-11-20T09:20:00Z'),
            SecretVersionsToStages: { 'v-1': ['AWSCURRENT'] },
          },
          { Name: 'no-arn-is-skipped' },
        ],
      });
    const inventory = secretsManagerInventory(new SecretsManagerClient({}), { pageSize: 1 });

    // Act
    const secrets = await inventory.list({ namePrefix: 'itdo-erp/production/', tags: [] });

    // Assess
    expect(secrets).toEqual([
      {
        name: 'itdo-erp/production/database',
        arn: ARN,
        tags: { 'shiplane:namespace': 'itdo-erp' },
        currentVersionId: 'v-new',
        lastChangedAt: new Date('2025-11-20T09:14:03Z'),
        deletedAt: undefined,
      },
      {
        name: 'itdo-erp/production/stripe-api-key',
        arn: `${ARN}x`,
        tags: {},
        currentVersionId: 'v-1',
        lastChangedAt: undefined,
        deletedAt: new Date('2025-11-20T09:20:00Z'),
      },
    ]);
    // The paginator reuses one input object, so only the last call's NextToken is observable.
    const calls = sm.commandCalls(ListSecretsCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({
      IncludePlannedDeletion: true,
      Filters: [{ Key: 'name', Values: ['itdo-erp/production/'] }],
      MaxResults: 1,
      NextToken: 'page-2',
    });
  });

  it('filters by tag key and value and leaves out values ListSecrets cannot filter on', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    const inventory = secretsManagerInventory(new SecretsManagerClient({}));

    await inventory.list({
      tags: [
        { key: 'shiplane:environment', value: 'production' },
        { key: 'shiplane:namespace', value: 'itdo-erp#eu' },
      ],
    });

    expect(sm.commandCalls(ListSecretsCommand)[0]?.args[0].input).toEqual({
      IncludePlannedDeletion: true,
      MaxResults: 100,
      Filters: [
        { Key: 'tag-key', Values: ['shiplane:environment', 'shiplane:namespace'] },
        { Key: 'tag-value', Values: ['production'] },
      ],
    });
  });

  it('lists without filters when the query has none', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });

    await secretsManagerInventory(new SecretsManagerClient({})).list({ tags: [] });

    expect(sm.commandCalls(ListSecretsCommand)[0]?.args[0].input).toEqual({
      IncludePlannedDeletion: true,
      MaxResults: 100,
    });
  });

  it('names a refusal as an access problem', async () => {
    sm.on(ListSecretsCommand).rejects(serviceError('AccessDeniedException'));

    await expect(secretsManagerInventory(new SecretsManagerClient({})).list({ tags: [] })).rejects.toThrow(
      SecretAccessDeniedError,
    );
  });

  it('reports throttling as a retryable inventory error', async () => {
    sm.on(ListSecretsCommand).rejects(serviceError('ThrottlingException'));

    const error = await secretsManagerInventory(new SecretsManagerClient({}))
      .list({ tags: [] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretsInventoryError);
    expect((error as Error).message).toBe('cannot list secrets: ThrottlingException');
  });
});

describe('secretsManagerInventory.describe', () => {
  it('returns fresh metadata with the AWSCURRENT version', async () => {
    sm.on(DescribeSecretCommand, { SecretId: ARN }).resolves({
      ARN,
      Name: 'itdo-erp/production/database',
      Tags: [{ Key: 'shiplane:environment', Value: 'production' }],
      VersionIdsToStages: { 'v-2': ['AWSCURRENT'] },
    });

    const secret = await secretsManagerInventory(new SecretsManagerClient({})).describe(ARN);

    expect(secret).toMatchObject({
      name: 'itdo-erp/production/database',
      arn: ARN,
      tags: { 'shiplane:environment': 'production' },
      currentVersionId: 'v-2',
    });
  });

  it('returns undefined for a secret that no longer exists', async () => {
    sm.on(DescribeSecretCommand).rejects(
      new ResourceNotFoundException({
        $metadata: {},
        message: "Secrets Manager can't find the specified secret.",
      }),
    );

    expect(await secretsManagerInventory(new SecretsManagerClient({})).describe('gone')).toBeUndefined();
  });
});

describe('secretsManagerInventory.shape', () => {
  it('returns the key names of a JSON secret and reads the version it is asked for', async () => {
    sm.on(GetSecretValueCommand).resolves({
      ARN,
      VersionId: 'v-2',
      SecretString: JSON.stringify({ username: 'erp', password: PASSWORD }),
    });

    const shape = await secretsManagerInventory(new SecretsManagerClient({})).shape({
      arn: ARN,
      versionId: 'v-2',
    });

    expect(shape).toEqual({ kind: 'json', keys: ['username', 'password'] });
    expect(JSON.stringify(shape)).not.toContain(PASSWORD);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      VersionId: 'v-2',
    });
  });

  it('reads each version once while the function stays warm', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"a":"1"}' });
    const inventory = secretsManagerInventory(new SecretsManagerClient({}));

    await inventory.shape({ arn: ARN, versionId: 'v-2' });
    await inventory.shape({ arn: ARN, versionId: 'v-2' });
    await inventory.shape({ arn: ARN, versionId: 'v-3' });

    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('returns undefined when the secret was deleted in the meantime', async () => {
    sm.on(GetSecretValueCommand).rejects(serviceError('InvalidRequestException'));

    expect(
      await secretsManagerInventory(new SecretsManagerClient({})).shape({ arn: ARN, versionId: 'v-2' }),
    ).toBeUndefined();
  });

  it('drops the SDK error of a failed read, which could carry the response', async () => {
    const failure = serviceError('DecryptionFailure');
    sm.on(GetSecretValueCommand).rejects(failure);

    const error = await secretsManagerInventory(new SecretsManagerClient({}))
      .shape({ arn: ARN, versionId: 'v-2' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretAccessDeniedError);
    expect((error as Error).cause).toBeUndefined();
  });
});

describe('shapeOf', () => {
  it.each([
    ['a plain string', { SecretString: PASSWORD }],
    ['text that looks almost like JSON', { SecretString: `{${PASSWORD}` }],
    ['a JSON array', { SecretString: `["${PASSWORD}"]` }],
    ['a JSON string', { SecretString: `"${PASSWORD}"` }],
    ['an empty JSON object', { SecretString: '{}' }],
    ['a binary secret', { SecretBinary: new TextEncoder().encode(PASSWORD) }],
  ])('reads %s as one plain value, without keeping it', (_, value) => {
    const shape = shapeOf(value);

    expect(shape).toEqual({ kind: 'plain' });
  });
});
