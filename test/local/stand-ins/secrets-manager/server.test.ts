import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  paginateListSecrets,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ITDO_ERP_EXAMPLE_SECRETS } from '../../../../local/stand-ins/secrets-manager/examples.js';
import {
  localClientConfig,
  type SecretsManagerServer,
  startSecretsManagerServer,
} from '../../../../local/stand-ins/secrets-manager/server.js';
import { parseSecretSyncEvent } from '../../../../shared/steps/secret-sync/events.js';

let server: SecretsManagerServer;
let client: SecretsManagerClient;

beforeEach(async () => {
  server = await startSecretsManagerServer({ secrets: ITDO_ERP_EXAMPLE_SECRETS });
  client = new SecretsManagerClient(localClientConfig(server));
});
afterEach(async () => {
  client.destroy();
  await server.close();
});

const DB = 'itdo-erp/production/database';

describe('the Secrets Manager stand-in', () => {
  it('listens on 127.0.0.1 and answers the real client', async () => {
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const output = await client.send(new DescribeSecretCommand({ SecretId: DB }));

    expect(output.Name).toBe(DB);
    expect(output.ARN).toMatch(
      /^arn:aws:secretsmanager:eu-west-1:123456789012:secret:itdo-erp\/production\/database-[A-Za-z0-9]{6}$/,
    );
    expect(output.Tags).toContainEqual({ Key: 'shiplane:namespace', Value: 'itdo-erp' });
    expect(output.CreatedDate).toBeInstanceOf(Date);
    expect(Object.values(output.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
  });

  it('finds a secret by name, full ARN and partial ARN', async () => {
    const { ARN } = await client.send(new DescribeSecretCommand({ SecretId: DB }));

    for (const id of [DB, ARN!, ARN!.slice(0, -7)]) {
      const output = await client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(JSON.parse(output.SecretString!)).toHaveProperty('username', 'itdo_erp_app');
    }
  });

  it('moves AWSCURRENT to a new version and leaves AWSPREVIOUS on the old one', async () => {
    const before = await client.send(new GetSecretValueCommand({ SecretId: DB }));

    const put = await client.send(
      new PutSecretValueCommand({ SecretId: DB, SecretString: '{"username":"u","password":"p2"}' }),
    );

    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    const described = await client.send(new DescribeSecretCommand({ SecretId: DB }));
    expect(described.VersionIdsToStages).toEqual({
      [before.VersionId!]: ['AWSPREVIOUS'],
      [put.VersionId!]: ['AWSCURRENT'],
    });
    const old = await client.send(new GetSecretValueCommand({ SecretId: DB, VersionStage: 'AWSPREVIOUS' }));
    expect(old.VersionId).toBe(before.VersionId);
  });

  it('treats a repeated ClientRequestToken as the same version, and refuses it with another value', async () => {
    const token = '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d';
    const first = await client.send(
      new PutSecretValueCommand({ SecretId: DB, SecretString: 'a', ClientRequestToken: token }),
    );
    const again = await client.send(
      new PutSecretValueCommand({ SecretId: DB, SecretString: 'a', ClientRequestToken: token }),
    );

    expect(again.VersionId).toBe(first.VersionId);
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: DB, SecretString: 'b', ClientRequestToken: token })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('filters ListSecrets by name prefix and tags, and pages with NextToken', async () => {
    const names: string[] = [];
    for await (const page of paginateListSecrets(
      { client, pageSize: 1 },
      {
        Filters: [
          { Key: 'name', Values: ['itdo-erp/'] },
          { Key: 'tag-key', Values: ['shiplane:environment'] },
          { Key: 'tag-value', Values: ['production'] },
        ],
      },
    )) {
      expect(page.SecretList?.length ?? 0).toBeLessThanOrEqual(1);
      names.push(...(page.SecretList ?? []).map((secret) => secret.Name!));
    }

    expect(names.sort()).toEqual([
      'itdo-erp/production/database',
      'itdo-erp/production/redis',
      'itdo-erp/production/stripe-api-key',
    ]);
    const negated = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['!itdo-erp/'] }] }),
    );
    expect(negated.SecretList?.map((secret) => secret.Name)).toEqual(['shiplane/github-token']);
  });

  it('hides a secret scheduled for deletion unless asked, refuses to read it, and restores it', async () => {
    const deleted = await client.send(new DeleteSecretCommand({ SecretId: DB, RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate).toBeInstanceOf(Date);

    const listed = await client.send(new ListSecretsCommand({}));
    expect(listed.SecretList?.map((secret) => secret.Name)).not.toContain(DB);
    const withDeleted = await client.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    expect(withDeleted.SecretList?.find((secret) => secret.Name === DB)?.DeletedDate).toBeInstanceOf(Date);
    await expect(client.send(new GetSecretValueCommand({ SecretId: DB }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });

    await client.send(new RestoreSecretCommand({ SecretId: DB }));
    expect((await client.send(new GetSecretValueCommand({ SecretId: DB }))).SecretString).toBeDefined();
  });

  it('forgets a secret deleted without recovery', async () => {
    await client.send(new DeleteSecretCommand({ SecretId: DB, ForceDeleteWithoutRecovery: true }));

    await expect(client.send(new DescribeSecretCommand({ SecretId: DB }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('tags and untags', async () => {
    await client.send(new TagResourceCommand({ SecretId: DB, Tags: [{ Key: 'team', Value: 'platform' }] }));
    await client.send(new UntagResourceCommand({ SecretId: DB, TagKeys: ['shiplane:namespace'] }));

    const { Tags } = await client.send(new DescribeSecretCommand({ SecretId: DB }));
    expect(Tags).toEqual([
      { Key: 'shiplane:environment', Value: 'production' },
      { Key: 'team', Value: 'platform' },
    ]);
  });

  it('stores binary secrets and a secret created without a value has no current version', async () => {
    await client.send(
      new CreateSecretCommand({ Name: 'itdo-erp/production/tls-key', SecretBinary: Buffer.from([1, 2, 3]) }),
    );
    await client.send(new CreateSecretCommand({ Name: 'itdo-erp/production/empty' }));

    const binary = await client.send(new GetSecretValueCommand({ SecretId: 'itdo-erp/production/tls-key' }));
    expect([...(binary.SecretBinary ?? [])]).toEqual([1, 2, 3]);
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'itdo-erp/production/empty' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses a second secret of the same name', async () => {
    await expect(
      client.send(new CreateSecretCommand({ Name: DB, SecretString: 'x' })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('records each change as the CloudTrail event EventBridge delivers, without the value', async () => {
    const seen: unknown[] = [];
    server.onEvent((event) => {
      seen.push(event);
    });

    await client.send(
      new CreateSecretCommand({
        Name: 'itdo-erp/production/smtp',
        SecretString: '{"password":"hunter2-smtp"}',
      }),
    );
    await client.send(new UpdateSecretCommand({ SecretId: DB, Description: 'primary' }));
    await client.send(new DeleteSecretCommand({ SecretId: 'itdo-erp/production/redis' }));
    await client.send(new UntagResourceCommand({ SecretId: DB, TagKeys: ['shiplane:namespace'] }));
    await client.send(new GetSecretValueCommand({ SecretId: DB }));
    server.rotate(DB, '{"username":"u","password":"rotated-pw"}');

    expect(server.events.map((event) => event.detail.eventName)).toEqual([
      'CreateSecret',
      'UpdateSecret',
      'DeleteSecret',
      'UntagResource',
      'RotationSucceeded',
    ]);
    expect(JSON.stringify(server.events)).not.toMatch(/hunter2-smtp|rotated-pw/);
    const [created, , deleted, untagged, rotated] = server.events;
    expect(created?.detail.requestParameters).toEqual({
      name: 'itdo-erp/production/smtp',
      clientRequestToken:
        created?.detail.responseElements &&
        (created.detail.responseElements as { versionId: string }).versionId,
    });
    expect(deleted?.detail.responseElements).toMatchObject({
      name: 'itdo-erp/production/redis',
      deletionDate: expect.stringMatching(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$/),
    });
    expect(untagged?.detail.responseElements).toBeNull();
    expect(rotated?.['detail-type']).toBe('AWS Service Event via CloudTrail');
    expect(rotated?.detail.requestParameters).toBeNull();
    // The listener runs asynchronously, like an EventBridge target.
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(5);
    // What the stand-in emits is what the secret-sync handler reads.
    expect(server.events.map((event) => parseSecretSyncEvent(event))).toMatchObject([
      { kind: 'secret-event', eventName: 'CreateSecret', name: 'itdo-erp/production/smtp' },
      { kind: 'secret-event', eventName: 'UpdateSecret', name: DB },
      { kind: 'secret-event', eventName: 'DeleteSecret', name: 'itdo-erp/production/redis' },
      { kind: 'secret-event', eventName: 'UntagResource', name: DB },
      { kind: 'secret-event', eventName: 'RotationSucceeded', name: DB },
    ]);
  });

  it('answers an unknown operation with an error the client names', async () => {
    const response = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'secretsmanager.RotateSecret',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers a body that is not JSON SerializationException, one over 1 MiB 413, and changes nothing', async () => {
    const call = (target: string, body: string) =>
      fetch(server.endpoint, {
        method: 'POST',
        headers: { 'x-amz-target': `secretsmanager.${target}`, 'content-type': 'application/x-amz-json-1.1' },
        body,
      });

    const badJson = await call('CreateSecret', '{"Name":');
    const tooLarge = await call(
      'CreateSecret',
      JSON.stringify({ Name: 'itdo-erp/huge', SecretString: 'x'.repeat(1_100_000) }),
    );
    const prototypeName = await call('constructor', '{}');

    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(await badJson.json()).toEqual({
      __type: 'SerializationException',
      message: 'The request body is not JSON',
    });
    expect(tooLarge.status).toBe(413);
    expect(prototypeName.status).toBe(400);
    expect(await prototypeName.json()).toMatchObject({ __type: 'UnknownOperationException' });
    expect(server.events).toEqual([]);
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: 'itdo-erp/huge' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
