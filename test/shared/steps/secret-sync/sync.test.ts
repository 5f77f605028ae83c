import { readFileSync } from 'node:fs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretsManagerInventory } from '../../../../shared/adapters/aws/secrets-inventory.js';
import { sqsCommitQueue } from '../../../../shared/adapters/aws/sqs-commit-queue.js';
import { configSchema } from '../../../../shared/config/schema.js';
import { FILE_HEADER } from '../../../../shared/domain/external-secret.js';
import { logger } from '../../../../shared/observability/index.js';
import { parseSecretSyncEvent, type SyncTrigger } from '../../../../shared/steps/secret-sync/events.js';
import { type SecretSyncDeps, syncSecrets, syncSummary } from '../../../../shared/steps/secret-sync/sync.js';
import { arnOf, type FakeSecret, sentRequests, serveSecrets, sm, sqs } from './fake-secrets.js';
import { config, configInput, documentsOf } from './sync-fixtures.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/shiplane-commits.fifo';
const PRODUCTION_FILE = 'environments/production/external-secrets.yaml';
const STAGING_FILE = 'environments/staging/external-secrets.yaml';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/secretsmanager/${name}`, import.meta.url), 'utf8'));

const deps = (overrides: Partial<SecretSyncDeps> = {}): SecretSyncDeps => ({
  config,
  inventory: secretsManagerInventory(new SecretsManagerClient({})),
  queue: sqsCommitQueue(new SQSClient({}), QUEUE_URL),
  logger,
  ...overrides,
});

const schedule = (at = '2025-11-20T09:30:00Z'): SyncTrigger => ({ kind: 'schedule', at: new Date(at) });

const database: FakeSecret = {
  name: 'itdo-erp/production/database',
  versionId: 'db-v1',
  value: JSON.stringify({ username: 'itdo_erp_app', password: 'pw-1' }),
  lastChangedAt: new Date('2025-11-01T00:00:00Z'),
};
const stripe: FakeSecret = {
  name: 'itdo-erp/production/stripe-api-key',
  versionId: 'stripe-v1',
  value: 'sk_test_1',
  lastChangedAt: new Date('2025-11-01T00:00:00Z'),
};
const stagingDatabase: FakeSecret = {
  name: 'itdo-erp/staging/database',
  versionId: 'sdb-v1',
  value: JSON.stringify({ username: 'u', password: 'p' }),
  lastChangedAt: new Date('2025-11-01T00:00:00Z'),
};

beforeEach(() => {
  sqs
    .on(SendMessageCommand)
    .callsFake(() => ({ MessageId: `msg-${sqs.commandCalls(SendMessageCommand).length}` }));
});
afterEach(() => {
  sm.reset();
  sqs.reset();
});

describe('syncSecrets on the schedule', () => {
  it('ignores a namespace tag that Kubernetes would refuse, so the file still applies', async () => {
    serveSecrets([
      { ...database, tags: { 'shiplane:namespace': 'Kube System\nkind: ClusterRole' } },
      { ...stripe, tags: { 'shiplane:namespace': 'payments' } },
    ]);

    await syncSecrets(schedule(), deps());

    const production = sentRequests().find((request) => request.change.file === PRODUCTION_FILE);
    const namespaces = documentsOf(production?.change.kind === 'file' ? production.change.content : null).map(
      (document) => [document.metadata.name, document.metadata.namespace],
    );
    expect(namespaces).toEqual([
      ['itdo-erp-production-database', undefined],
      ['itdo-erp-production-stripe-api-key', 'payments'],
    ]);
  });

  it('ignores a namespace tag the config does not allow, with a warning, and writes no key names', async () => {
    // Prepare
    serveSecrets([
      { ...database, tags: { 'shiplane:namespace': 'kube-system' } },
      { ...stripe, tags: { 'shiplane:namespace': 'itdo-erp' } },
      { ...stagingDatabase, tags: { 'shiplane:namespace': 'itdo-erp' } },
    ]);
    const warnings: Array<[string, unknown]> = [];
    const recording = {
      ...logger,
      info() {},
      debug() {},
      warn: (m: string, a: unknown) => warnings.push([m, a]),
    };

    // Act
    await syncSecrets(schedule(), deps({ logger: recording as unknown as SecretSyncDeps['logger'] }));

    // Assess: production allows itdo-erp and payments; staging allows no namespace at all
    const [production, staging] = sentRequests().map((request) =>
      documentsOf(request.change.kind === 'file' ? request.change.content : null),
    );
    expect(production?.map((document) => [document.metadata.name, document.metadata.namespace])).toEqual([
      ['itdo-erp-production-database', undefined],
      ['itdo-erp-production-stripe-api-key', 'itdo-erp'],
    ]);
    expect(staging?.map((document) => document.metadata.namespace)).toEqual([undefined]);
    expect(warnings).toEqual([
      [
        'ignoring a namespace tag the config does not allow (secrets[].namespaces)',
        {
          secret: 'itdo-erp/production/database',
          tag: 'shiplane:namespace',
          namespace: 'kube-system',
          allowed: ['itdo-erp', 'payments'],
        },
      ],
      [
        'ignoring a namespace tag the config does not allow (secrets[].namespaces)',
        {
          secret: 'itdo-erp/staging/database',
          tag: 'shiplane:namespace',
          namespace: 'itdo-erp',
          allowed: [],
        },
      ],
    ]);
    const contents = sentRequests().map((request) =>
      request.change.kind === 'file' ? request.change.content : '',
    );
    for (const content of contents) expect(content).not.toMatch(/username|password/);
  });

  it('lists only the keys the config names, and leaves out a secret with none of them', async () => {
    // Prepare
    serveSecrets([
      database,
      { name: 'itdo-erp/production/redis', versionId: 'r1', value: JSON.stringify({ url: 'u', token: 't' }) },
    ]);
    const keyed = configSchema.parse({
      ...configInput,
      secrets: [{ ...configInput.secrets?.[0], keys: ['password', 'replica'] }],
    });
    const warnings: string[] = [];
    const recording = { ...logger, info() {}, debug() {}, warn: (m: string) => warnings.push(m) };

    // Act
    await syncSecrets(
      schedule(),
      deps({ config: keyed, logger: recording as unknown as SecretSyncDeps['logger'] }),
    );

    // Assess
    const request = sentRequests()[0];
    const content = request?.change.kind === 'file' ? request.change.content : null;
    const documents = documentsOf(content);
    expect(documents.map((document) => document.metadata.name)).toEqual(['itdo-erp-production-database']);
    expect(documents[0]?.spec.data).toEqual([
      { secretKey: 'password', remoteRef: { key: 'itdo-erp/production/database', property: 'password' } },
    ]);
    expect(content).not.toMatch(/username|token|url/);
    expect(warnings).toEqual([
      'secret lacks some of the keys its secrets entry lists; they are left out',
      'secret has none of the keys its secrets entry lists; no manifest',
    ]);
  });

  it('renders every file from Secrets Manager and queues one file change per file', async () => {
    // Prepare
    serveSecrets([
      database,
      stripe,
      stagingDatabase,
      { name: 'shiplane/github-token', versionId: 'g', value: 'x' },
    ]);

    // Act
    const result = await syncSecrets(schedule(), deps());

    // Assess
    const requests = sentRequests();
    expect(requests.map((request) => request.change.file)).toEqual([PRODUCTION_FILE, STAGING_FILE]);
    expect(requests[0]).toMatchObject({
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
      change: { kind: 'file', stage: 'production', file: PRODUCTION_FILE },
    });
    expect(requests[0]).not.toHaveProperty('taskToken');
    const production = documentsOf(requests[0]?.change.kind === 'file' ? requests[0].change.content : null);
    expect(production.map((document) => document.metadata.name)).toEqual([
      'itdo-erp-production-database',
      'itdo-erp-production-stripe-api-key',
    ]);
    expect(production[0]?.spec).not.toHaveProperty('data');
    expect(production[0]?.spec.dataFrom).toEqual([{ extract: { key: 'itdo-erp/production/database' } }]);
    expect(production[1]?.spec.data).toEqual([
      { secretKey: 'stripe-api-key', remoteRef: { key: 'itdo-erp/production/stripe-api-key' } },
    ]);
    const staging = documentsOf(requests[1]?.change.kind === 'file' ? requests[1].change.content : null);
    expect(staging.map((document) => document.spec.refreshInterval)).toEqual(['15m']);
    expect(result).toEqual({
      trigger: 'schedule',
      status: 'queued',
      files: [
        {
          file: PRODUCTION_FILE,
          stage: 'production',
          secrets: 2,
          changed: 0,
          summary: 'Sync external secrets for production (scheduled reconcile)',
          status: 'queued',
          messageId: 'msg-1',
        },
        {
          file: STAGING_FILE,
          stage: 'staging',
          secrets: 1,
          changed: 0,
          summary: 'Sync external secrets for staging (scheduled reconcile)',
          status: 'queued',
          messageId: 'msg-2',
        },
      ],
    });
  });

  it('counts the secrets changed or deleted since the previous run in the summary', async () => {
    serveSecrets([
      { ...database, lastChangedAt: new Date('2025-11-20T09:20:00Z') },
      {
        ...stripe,
        lastChangedAt: new Date('2025-11-20T09:25:00Z'),
        deletedAt: new Date('2025-11-20T09:25:00Z'),
      },
      // Changed before the window (09:14, one interval and a minute back): the previous run saw it.
      {
        ...stagingDatabase,
        name: 'itdo-erp/production/cache',
        lastChangedAt: new Date('2025-11-20T09:13:00Z'),
      },
      { ...stripe, name: 'itdo-erp/production/old', deletedAt: new Date('2025-10-01T00:00:00Z') },
    ]);

    const result = await syncSecrets(schedule(), deps());

    expect(result.files[0]).toMatchObject({
      secrets: 2,
      changed: 2,
      summary: 'Sync external secrets for production (2 changed)',
    });
    expect(sentRequests()[0]?.change).toMatchObject({
      summary: 'Sync external secrets for production (2 changed)',
    });
  });

  it('sends byte-identical content for an unchanged secret set, so the queue and committer see no change', async () => {
    serveSecrets([database, stripe]);
    await syncSecrets(schedule(), deps());
    sm.reset();
    serveSecrets([
      stripe,
      { ...database, value: JSON.stringify({ password: 'pw-1', username: 'itdo_erp_app' }) },
    ]);

    await syncSecrets(schedule('2025-11-20T09:45:00Z'), deps());

    const calls = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(calls[2]?.MessageBody).toBe(calls[0]?.MessageBody);
    expect(calls[2]?.MessageDeduplicationId).toBe(calls[0]?.MessageDeduplicationId);
  });

  it('renders an added secret, a new version and a deleted secret from Secrets Manager state alone', async () => {
    serveSecrets([database, stripe]);
    await syncSecrets(schedule(), deps());
    sm.reset();
    const redis: FakeSecret = {
      name: 'itdo-erp/production/redis',
      versionId: 'r-v1',
      value: '{"token":"t"}',
    };
    serveSecrets([{ ...database, versionId: 'db-v2' }, { ...stripe, deletedAt: new Date() }, redis]);

    await syncSecrets(schedule('2025-11-20T09:45:00Z'), deps());

    const [, , after] = sentRequests();
    const documents = documentsOf(after?.change.kind === 'file' ? after.change.content : null);
    expect(
      documents.map((document) => [document.metadata.name, document.metadata.annotations['force-sync']]),
    ).toEqual([
      ['itdo-erp-production-database', 'db-v2'],
      ['itdo-erp-production-redis', 'r-v1'],
    ]);
  });

  it('writes the header alone once every selected secret is gone', async () => {
    serveSecrets([{ ...database, deletedAt: new Date() }]);

    await syncSecrets(schedule(), deps());

    expect(sentRequests()[0]?.change).toMatchObject({ file: PRODUCTION_FILE, content: `${FILE_HEADER}\n` });
  });

  it('leaves out a secret that has no value yet', async () => {
    serveSecrets([database, { name: 'itdo-erp/production/empty' }]);

    const result = await syncSecrets(schedule(), deps());

    expect(result.files[0]?.secrets).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('skips when the config has no secrets entries', async () => {
    const result = await syncSecrets(
      schedule(),
      deps({ config: configSchema.parse({ ...configInput, secrets: [] }) }),
    );

    expect(result).toEqual({
      trigger: 'schedule',
      status: 'skipped',
      reason: 'the config has no secrets entries',
      files: [],
    });
    expect(sm.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('sends nothing when a secret cannot be read, so no manifest is dropped by mistake', async () => {
    serveSecrets([database, stripe]);
    sm.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized',
      }),
    );

    await expect(syncSecrets(schedule(), deps())).rejects.toThrow(/refused to read the key names/);
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('syncSecrets on a Secrets Manager event', () => {
  it('uses DescribeSecret for the changed secret, because ListSecrets may still show the old version', async () => {
    // ListSecrets lags: it still reports db-v1 while DescribeSecret already knows db-v2.
    serveSecrets([database, stripe], [{ ...database, versionId: 'db-v2' }, stripe]);

    const result = await syncSecrets(parseSecretSyncEvent(fixture('put-secret-value.json')), deps());

    const [request] = sentRequests();
    expect(sentRequests()).toHaveLength(1);
    expect(request?.change).toMatchObject({
      file: PRODUCTION_FILE,
      summary: 'Sync external secrets for production (1 changed)',
    });
    const documents = documentsOf(request?.change.kind === 'file' ? request.change.content : null);
    expect(
      documents.find((d) => d.metadata.name === 'itdo-erp-production-database')?.metadata.annotations,
    ).toEqual({
      'force-sync': 'db-v2',
      'shiplane.io/secret-name': 'itdo-erp/production/database',
    });
    expect(result).toMatchObject({
      trigger: 'PutSecretValue',
      secret: 'itdo-erp/production/database',
      status: 'queued',
    });
    expect(sm.commandCalls(DescribeSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: arnOf(database.name),
    });
  });

  it('removes the manifest of a deleted secret even while ListSecrets still lists it', async () => {
    serveSecrets([database, stripe], [database, { ...stripe, deletedAt: new Date('2025-11-20T09:14:03Z') }]);

    await syncSecrets(parseSecretSyncEvent(fixture('delete-secret.json')), deps());

    const [request] = sentRequests();
    const names = documentsOf(request?.change.kind === 'file' ? request.change.content : null).map(
      (document) => document.metadata.name,
    );
    expect(names).toEqual(['itdo-erp-production-database']);
  });

  it('removes the manifest of a secret deleted without recovery', async () => {
    serveSecrets([database, stripe], [database]);

    await syncSecrets(parseSecretSyncEvent(fixture('delete-secret-before-2024.json')), deps());

    const [request] = sentRequests();
    expect(documentsOf(request?.change.kind === 'file' ? request.change.content : null)).toHaveLength(1);
  });

  it('adds a created secret before ListSecrets knows it', async () => {
    const redis: FakeSecret = {
      name: 'itdo-erp/production/redis',
      versionId: 'r-v1',
      value: '{"url":"u","token":"t"}',
    };
    serveSecrets([database], [database, redis]);

    await syncSecrets(parseSecretSyncEvent(fixture('create-secret.json')), deps());

    const [request] = sentRequests();
    const documents = documentsOf(request?.change.kind === 'file' ? request.change.content : null);
    expect(documents.map((document) => document.metadata.name)).toEqual([
      'itdo-erp-production-database',
      'itdo-erp-production-redis',
    ]);
  });

  it('refreshes a rotated secret from the ARN in additionalEventData', async () => {
    serveSecrets([database], [{ ...database, versionId: 'db-rotated' }]);

    await syncSecrets(parseSecretSyncEvent(fixture('rotation-succeeded.json')), deps());

    const [request] = sentRequests();
    const [document] = documentsOf(request?.change.kind === 'file' ? request.change.content : null);
    expect(document?.metadata.annotations['force-sync']).toBe('db-rotated');
  });

  it('only touches the files the secret can belong to', async () => {
    serveSecrets([database, stagingDatabase]);

    const result = await syncSecrets(parseSecretSyncEvent(fixture('update-secret.json')), deps());

    expect(result.files.map((file) => file.file)).toEqual([PRODUCTION_FILE]);
    expect(sentRequests()).toHaveLength(1);
  });

  it('does nothing for a secret no entry can select', async () => {
    const event = fixture('put-secret-value.json');
    event.detail.requestParameters.secretId = 'billing/api-key';
    event.detail.responseElements = {
      arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:billing/api-key-AbCdEf',
      name: 'billing/api-key',
      versionId: 'v',
    };

    const result = await syncSecrets(parseSecretSyncEvent(event), deps());

    expect(result).toEqual({
      trigger: 'PutSecretValue',
      secret: 'billing/api-key',
      status: 'skipped',
      reason: 'no secrets entry can select billing/api-key',
      files: [],
    });
    expect(sm.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('drops a secret from a tag-selected file once its tag is gone and it may no longer be described', async () => {
    const byTag = configSchema.parse({
      ...configInput,
      secrets: [
        {
          tags: { environment: 'production' },
          file: PRODUCTION_FILE,
          secretStore: { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' },
        },
      ],
    });
    const tagged = { ...database, tags: { 'shiplane:environment': 'production' } };
    const redis = {
      name: 'itdo-erp/production/redis',
      versionId: 'r',
      value: '{}',
      tags: { 'shiplane:environment': 'production' },
    };
    // ListSecrets still shows the tag; DescribeSecret is refused by the tag-scoped policy.
    serveSecrets([tagged, redis]);
    sm.on(DescribeSecretCommand).rejects(
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized',
      }),
    );

    await syncSecrets(parseSecretSyncEvent(fixture('untag-resource.json')), deps({ config: byTag }));

    const [request] = sentRequests();
    const names = documentsOf(request?.change.kind === 'file' ? request.change.content : null).map(
      (document) => document.metadata.name,
    );
    expect(names).toEqual(['itdo-erp-production-database']);
  });

  it('asks ListSecrets with the entry prefix and planned deletions included', async () => {
    serveSecrets([database]);

    await syncSecrets(parseSecretSyncEvent(fixture('put-secret-value.json')), deps());

    expect(sm.commandCalls(ListSecretsCommand)[0]?.args[0].input).toMatchObject({
      IncludePlannedDeletion: true,
      Filters: [{ Key: 'name', Values: ['itdo-erp/production/'] }],
    });
  });

  it('does nothing for an ignored event', async () => {
    const result = await syncSecrets(parseSecretSyncEvent(fixture('get-secret-value.json')), deps());

    expect(result).toMatchObject({ trigger: 'ignored', status: 'skipped', files: [] });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('syncSummary', () => {
  it('reads like a commit message', () => {
    expect(syncSummary('production', 2)).toBe('Sync external secrets for production (2 changed)');
    expect(syncSummary('production', 0)).toBe('Sync external secrets for production (scheduled reconcile)');
  });
});
