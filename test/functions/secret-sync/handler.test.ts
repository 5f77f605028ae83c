import { readFileSync } from 'node:fs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSecretSyncHandler, handler } from '../../../functions/secret-sync/handler.js';
import { secretsManagerInventory } from '../../../shared/adapters/aws/secrets-inventory.js';
import { sqsCommitQueue } from '../../../shared/adapters/aws/sqs-commit-queue.js';
import { serializeConfigInput } from '../../../shared/config/runtime.js';
import { InvalidInputError } from '../../../shared/errors.js';
import {
  type FakeSecret,
  sentRequests,
  serveSecrets,
  sm,
  sqs,
} from '../../shared/steps/secret-sync/fake-secrets.js';
import { config, configInput } from '../../shared/steps/secret-sync/sync-fixtures.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/shiplane-commits.fifo';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/secretsmanager/${name}`, import.meta.url), 'utf8'));

const context = {
  functionName: 'Shiplane-SecretSync',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Shiplane-SecretSync',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/Shiplane-SecretSync',
  logStreamName: '2025/11/20/[$LATEST]abcdef',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

const database: FakeSecret = {
  name: 'itdo-erp/production/database',
  versionId: 'db-v1',
  value: '{"username":"u","password":"p"}',
};

const deps = () => ({
  config,
  inventory: secretsManagerInventory(new SecretsManagerClient({})),
  queue: sqsCommitQueue(new SQSClient({}), QUEUE_URL),
});

beforeEach(() => {
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});
afterEach(() => {
  sm.reset();
  sqs.reset();
  vi.unstubAllEnvs();
});

describe('createSecretSyncHandler', () => {
  it('reconciles every file on the scheduled event', async () => {
    serveSecrets([database]);

    const result = await createSecretSyncHandler(deps())(fixture('scheduled-event.json'), context);

    expect(result).toMatchObject({ trigger: 'schedule', status: 'queued' });
    expect(result.files.map((file) => file.file)).toEqual([
      'environments/production/external-secrets.yaml',
      'environments/staging/external-secrets.yaml',
    ]);
  });

  it('reconciles the files of the secret named by a CloudTrail event', async () => {
    serveSecrets([database]);

    const result = await createSecretSyncHandler(deps())(fixture('rotation-succeeded.json'), context);

    expect(result).toMatchObject({
      trigger: 'RotationSucceeded',
      secret: 'itdo-erp/production/database',
      status: 'queued',
      files: [{ file: 'environments/production/external-secrets.yaml', secrets: 1, changed: 1 }],
    });
  });

  it('refuses an event it does not know, naming what is wrong, and changes nothing', async () => {
    const run = createSecretSyncHandler(deps())(
      { 'detail-type': 'Object Created', source: 'aws.s3' },
      context,
    );

    await expect(run).rejects.toThrow(InvalidInputError);
    expect(sm.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('builds its dependencies on the first event, not at import', async () => {
    serveSecrets([database]);
    const build = vi.fn(deps);
    const secretSync = createSecretSyncHandler(build);

    expect(build).not.toHaveBeenCalled();
    await secretSync(fixture('put-secret-value.json'), context);
    expect(build).toHaveBeenCalledTimes(1);
  });
});

describe('handler (deployed)', () => {
  it('names the missing queue variable, then runs once the stack sets it', async () => {
    serveSecrets([database]);
    vi.stubEnv('SHIPLANE_CONFIG', serializeConfigInput(configInput));
    vi.stubEnv('COMMIT_QUEUE_URL', '');

    await expect(handler(fixture('scheduled-event.json'), context)).rejects.toThrow(
      /COMMIT_QUEUE_URL is not set/,
    );

    vi.stubEnv('COMMIT_QUEUE_URL', QUEUE_URL);
    const result = await handler(fixture('scheduled-event.json'), context);

    expect(result.status).toBe('queued');
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(sentRequests()[0]?.repository).toBe('itdo-erp/itdo-erp-infrastructure');
  });
});
