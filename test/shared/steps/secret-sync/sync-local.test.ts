import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITDO_ERP_EXAMPLE_SECRETS } from '../../../../local/stand-ins/secrets-manager/examples.js';
import {
  localClientConfig,
  type SecretsManagerServer,
  startSecretsManagerServer,
} from '../../../../local/stand-ins/secrets-manager/server.js';
import { secretsManagerInventory } from '../../../../shared/adapters/aws/secrets-inventory.js';
import { sqsCommitQueue } from '../../../../shared/adapters/aws/sqs-commit-queue.js';
import type { FileChange } from '../../../../shared/contracts/tasks.js';
import { logger } from '../../../../shared/observability/index.js';
import { parseSecretSyncEvent } from '../../../../shared/steps/secret-sync/events.js';
import { type SecretSyncDeps, syncSecrets } from '../../../../shared/steps/secret-sync/sync.js';
import { config, documentsOf } from './sync-fixtures.js';

// Secrets Manager is the local stand-in (real client, real HTTP); only SQS is mocked.
const sqs = mockClient(SQSClient);
const DB = 'itdo-erp/production/database';
const PRODUCTION_FILE = 'environments/production/external-secrets.yaml';

let server: SecretsManagerServer;
let client: SecretsManagerClient;
let deps: SecretSyncDeps;

beforeAll(async () => {
  server = await startSecretsManagerServer({ secrets: ITDO_ERP_EXAMPLE_SECRETS });
  client = new SecretsManagerClient(localClientConfig(server));
  sqs.on(SendMessageCommand).resolves({ MessageId: 'queued' });
  deps = {
    config,
    inventory: secretsManagerInventory(client),
    queue: sqsCommitQueue(
      new SQSClient({}),
      'https://sqs.eu-west-1.amazonaws.com/123456789012/shiplane-commits.fifo',
    ),
    logger,
  };
});
afterAll(async () => {
  sqs.restore();
  client.destroy();
  await server.close();
});

/** The production file change of the last send. */
const lastProductionChange = (): FileChange => {
  const bodies = sqs
    .commandCalls(SendMessageCommand)
    .map((call) => JSON.parse(call.args[0].input.MessageBody!));
  const change = bodies.reverse().find((body) => body.change.file === PRODUCTION_FILE)?.change;
  if (!change) throw new Error('no production change was sent');
  return change;
};
const namesAndVersions = () =>
  documentsOf(lastProductionChange().content).map((document) => [
    document.metadata.name,
    document.metadata.annotations['force-sync'],
  ]);
const currentVersion = async (name: string) => {
  const stages = (await client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};
  return Object.entries(stages).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
};
/** Runs the sync for the stand-in's latest event, as the EventBridge rule would. */
const syncLatestEvent = async () => {
  const event = server.events.at(-1);
  return syncSecrets(parseSecretSyncEvent(event), deps);
};

describe('secret sync against the Secrets Manager stand-in', () => {
  it('renders the ITDO ERP secrets on the schedule', async () => {
    const result = await syncSecrets({ kind: 'schedule', at: new Date() }, deps);

    expect(result.files.map((file) => [file.file, file.secrets])).toEqual([
      [PRODUCTION_FILE, 3],
      ['environments/staging/external-secrets.yaml', 1],
    ]);
    const documents = documentsOf(lastProductionChange().content);
    expect(documents.map((document) => document.metadata.name)).toEqual([
      'itdo-erp-production-database',
      'itdo-erp-production-redis',
      'itdo-erp-production-stripe-api-key',
    ]);
    expect(documents[0]?.metadata.namespace).toBe('itdo-erp');
    expect(documents[0]?.spec.dataFrom).toEqual([{ extract: { key: DB } }]);
    expect(lastProductionChange().content).not.toMatch(/dbname|host|password|port|username|token/);
    expect(documents[0]?.metadata.annotations['force-sync']).toBe(await currentVersion(DB));
  });

  it('moves force-sync to the new version after PutSecretValue', async () => {
    const before = lastProductionChange().content;
    await client.send(
      new PutSecretValueCommand({ SecretId: DB, SecretString: '{"username":"u","password":"new"}' }),
    );

    await syncLatestEvent();

    const version = await currentVersion(DB);
    expect(namesAndVersions()).toContainEqual(['itdo-erp-production-database', version]);
    expect(lastProductionChange().content).not.toBe(before);
    expect(lastProductionChange().summary).toBe('Sync external secrets for production (1 changed)');
  });

  it('removes the manifest of a deleted secret', async () => {
    await client.send(
      new DeleteSecretCommand({ SecretId: 'itdo-erp/production/stripe-api-key', RecoveryWindowInDays: 7 }),
    );

    await syncLatestEvent();

    expect(namesAndVersions().map(([name]) => name)).toEqual([
      'itdo-erp-production-database',
      'itdo-erp-production-redis',
    ]);
  });

  it('adds a created secret', async () => {
    await client.send(
      new CreateSecretCommand({
        Name: 'itdo-erp/production/smtp',
        SecretString: '{"user":"erp","password":"x"}',
      }),
    );

    await syncLatestEvent();

    expect(namesAndVersions().map(([name]) => name)).toContain('itdo-erp-production-smtp');
  });

  it('refreshes a rotated secret', async () => {
    server.rotate(DB, '{"username":"u","password":"rotated"}');

    await syncLatestEvent();

    expect(namesAndVersions()).toContainEqual(['itdo-erp-production-database', await currentVersion(DB)]);
  });

  it('renders the same bytes on the next schedule when nothing changed', async () => {
    const afterEvents = lastProductionChange().content;

    await syncSecrets({ kind: 'schedule', at: new Date() }, deps);

    expect(lastProductionChange().content).toBe(afterEvents);
  });

  it('never sent a secret value to the queue', () => {
    const bodies = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageBody ?? '');

    for (const value of [
      'sandbox-only-Xq7vR2mP9kL4',
      'sandbox-only-rT5yU8iO1pA3',
      'sk_test_sandboxOnly',
      '"new"',
      'rotated"',
    ]) {
      for (const body of bodies) expect(body).not.toContain(value);
    }
  });
});
