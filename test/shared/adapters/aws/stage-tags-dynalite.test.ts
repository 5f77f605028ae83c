/**
 * The healthy-tag history of the approvals table against dynalite (a DynamoDB implementation in
 * Node, on 127.0.0.1): the real adapter's condition expressions, as DynamoDB evaluates them, keep
 * every concurrent writer's entry and cap the history.
 */
import { createRequire } from 'node:module';
import type { AddressInfo, Server } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoApprovalsStore } from '../../../../shared/adapters/aws/approvals-table.js';
import { chooseRollbackTarget } from '../../../../shared/domain/stage-tags.js';
import { release } from '../../../fixtures/slack/context.js';

// dynalite ships CommonJS without type declarations; this test needs its server only.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: Record<string, number>) => Server;

const TABLE = 'shiplane-approvals';
let server: Server;
let client: DynamoDBClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'ap-northeast-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const healthy = (n: number) => ({
  tag: `v2.1.${n}`,
  digest: digestOf(n),
  execution: `backend-v2.1.${n}-run`,
  at: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
  release: { ...release(), app: 'backend', tag: `v2.1.${n}`, digest: digestOf(n) },
});

describe('the stage history in DynamoDB (dynalite)', () => {
  it('keeps every entry of writers that race, then caps the history at ten', async () => {
    // Prepare
    const store = dynamoApprovalsStore(client, TABLE);

    // Act: four notifications at once, then eight more one by one.
    await Promise.all([1, 2, 3, 4].map((n) => store.recordDeployedTag('backend', 'staging', healthy(n))));
    const raced = await store.stageTags('backend', 'staging');
    for (const n of [5, 6, 7, 8, 9, 10, 11, 12])
      await store.recordDeployedTag('backend', 'staging', healthy(n));

    // Assess
    expect(raced?.healthy.map((entry) => entry.tag).sort()).toEqual(['v2.1.1', 'v2.1.2', 'v2.1.3', 'v2.1.4']);
    const tags = (await store.stageTags('backend', 'staging'))?.healthy.map((entry) => entry.tag) ?? [];
    // The racers landed in whatever order DynamoDB took them; the two newest of them stay.
    expect(tags).toHaveLength(10);
    expect(tags.slice(2)).toEqual([5, 6, 7, 8, 9, 10, 11, 12].map((n) => `v2.1.${n}`));
    expect(raced?.healthy.map((entry) => entry.tag).slice(2)).toEqual(tags.slice(0, 2));
    const latest = await store.stageTags('backend', 'staging');
    expect(latest?.healthy.at(-1)).toEqual(healthy(12));
    expect(await store.deployedTag('backend', 'staging')).toEqual({
      tag: 'v2.1.12',
      digest: digestOf(12),
      execution: 'backend-v2.1.12-run',
      at: healthy(12).at,
    });
  });

  it('knows the previous healthy tag when the stage was left on a bad one', async () => {
    const store = dynamoApprovalsStore(client, TABLE);
    await store.recordDeployedTag('frontend', 'production', healthy(5));
    await store.recordDeployedTag('frontend', 'production', healthy(6));
    await store.recordPinnedTag('frontend', 'production', {
      tag: 'v2.1.7-bad',
      digest: digestOf(7),
      execution: 'frontend-v2.1.7-bad-run',
      at: '2026-11-26T10:00:00.000Z',
    });

    const tags = await store.stageTags('frontend', 'production');
    const choice = tags && chooseRollbackTarget(tags, { app: 'frontend', stage: 'production' });

    expect(choice).toMatchObject({
      target: { tag: 'v2.1.6', digest: digestOf(6) },
      from: { tag: 'v2.1.7-bad', digest: digestOf(7) },
    });
  });
});
