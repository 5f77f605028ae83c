/**
 * The rule of issue 6: no secret value in a manifest, a log line or a handler result. Every secret
 * here carries a marker in its value; the test runs the handler on each kind of trigger with the
 * Powertools logger at DEBUG, captures everything written to stdout/stderr, the queued messages,
 * the results and the errors, and fails if any part of a marker shows up anywhere (JSON.parse,
 * for one, quotes only the first characters of bad input).
 */
import { readFileSync } from 'node:fs';
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSecretSyncHandler } from '../../../functions/secret-sync/handler.js';
import { secretsManagerInventory } from '../../../shared/adapters/aws/secrets-inventory.js';
import { sqsCommitQueue } from '../../../shared/adapters/aws/sqs-commit-queue.js';
import { logger } from '../../../shared/observability/index.js';
import { type FakeSecret, serveSecrets, sm, sqs } from '../../shared/steps/secret-sync/fake-secrets.js';
import { config } from '../../shared/steps/secret-sync/sync-fixtures.js';

/** Random-looking values: any 6 characters of one in the output mean (part of) it leaked. */
const MARKERS = {
  json: 'Qz7XkVw9LpRtNjHm',
  nested: 'Gy8TsWq5ZcBvKd2F',
  plain: 'Pn4YhUx6JeMrSa3W',
  brokenJson: 'Xb9RkQm2VzLtHw7C',
  array: 'Jd5NfTq8WyGpKs4Z',
  rotated: 'Vm6HzRc3XnQwLb9T',
};
const WINDOW = 6;
const fragments = Object.values(MARKERS).flatMap((marker) =>
  Array.from({ length: marker.length - WINDOW + 1 }, (_, i) => marker.slice(i, i + WINDOW)),
);

const secrets: FakeSecret[] = [
  {
    name: 'itdo-erp/production/database',
    versionId: 'db-v1',
    value: JSON.stringify({
      username: 'itdo_erp_app',
      password: MARKERS.json,
      replica: { password: MARKERS.nested },
    }),
  },
  // Not JSON: JSON.parse's error message would quote it.
  { name: 'itdo-erp/production/stripe-api-key', versionId: 's-v1', value: MARKERS.plain },
  { name: 'itdo-erp/production/legacy', versionId: 'l-v1', value: `{${MARKERS.brokenJson}` },
  { name: 'itdo-erp/production/hosts', versionId: 'h-v1', value: JSON.stringify([MARKERS.array]) },
  {
    name: 'itdo-erp/staging/database',
    versionId: 'sdb-v1',
    value: JSON.stringify({ password: MARKERS.json }),
  },
];

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/secretsmanager/${name}`, import.meta.url), 'utf8'));

const context = {
  functionName: 'Shiplane-SecretSync',
  awsRequestId: '0d3f3a52-1c55-4a3b-8c0f-5e2b8f6d9a10',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Shiplane-SecretSync',
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

let output: string[];

beforeEach(() => {
  output = [];
  const capture = (chunk: unknown) => {
    output.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  logger.setLogLevel('DEBUG');
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
});
afterEach(() => {
  logger.setLogLevel('SILENT');
  vi.restoreAllMocks();
  sm.reset();
  sqs.reset();
});

const handler = () =>
  createSecretSyncHandler({
    config,
    inventory: secretsManagerInventory(new SecretsManagerClient({})),
    queue: sqsCommitQueue(
      new SQSClient({}),
      'https://sqs.eu-west-1.amazonaws.com/123456789012/shiplane-commits.fifo',
    ),
  });

/** Everything that left the handler: queued bodies, captured log output, the results, the errors. */
const everything = (results: unknown[], errors: unknown[]) => [
  ...sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageBody ?? ''),
  ...output,
  ...results.map((result) => JSON.stringify(result)),
  ...errors.flatMap((error) => {
    const chain: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) {
      chain.push(String(e), e.stack ?? '', JSON.stringify(e));
    }
    return chain;
  }),
];

const expectNoMarker = (texts: readonly string[]) => {
  for (const text of texts) {
    for (const fragment of fragments) {
      expect(text, `a secret value leaked into: ${text.slice(0, 300)}`).not.toContain(fragment);
    }
  }
};

describe('secret-sync never lets a secret value out', () => {
  it('on the schedule, on each event type, and in its logs', async () => {
    // Prepare
    serveSecrets(secrets);
    const secretSync = handler();
    const results: unknown[] = [];

    // Act
    for (const file of [
      'scheduled-event.json',
      'create-secret.json',
      'put-secret-value.json',
      'update-secret.json',
      'delete-secret.json',
      'restore-secret.json',
      'tag-resource.json',
      'untag-resource.json',
      'rotation-succeeded.json',
      'get-secret-value.json',
    ]) {
      results.push(await secretSync(fixture(file), context));
    }
    sm.reset();
    serveSecrets(
      secrets.map((secret) =>
        secret.versionId === 'db-v1'
          ? { ...secret, versionId: 'db-v2', value: JSON.stringify({ password: MARKERS.rotated }) }
          : secret,
      ),
    );
    results.push(await secretSync(fixture('rotation-succeeded.json'), context));

    // Assess: the capture worked (the logs name secrets and files) and no value got out.
    const logs = output.join('');
    expect(logs).toContain('external secrets file queued for commit');
    expect(logs).toContain('itdo-erp/production/stripe-api-key');
    expect(sqs.commandCalls(SendMessageCommand).length).toBeGreaterThan(5);
    expectNoMarker(everything(results, []));
  });

  it('when reading a secret fails with an error that quotes the response', async () => {
    serveSecrets(secrets);
    const failure = new SecretsManagerServiceException({
      name: 'DecryptionFailure',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: `could not decrypt ${MARKERS.plain}`,
    });
    Object.assign(failure, { $response: { body: JSON.stringify({ SecretString: MARKERS.json }) } });
    sm.on(GetSecretValueCommand).rejects(failure);

    const error = await handler()(fixture('scheduled-event.json'), context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('SecretAccessDeniedError');
    expectNoMarker(everything([], [error]));
    expect(sqs.calls()).toHaveLength(0);
  });
});
