/**
 * The healthy-tag history's writes as DynamoDB sees them: a put conditional on the revision read,
 * retries when another writer got in between, the cap. Behaviour against a real DynamoDB
 * implementation is in stage-tags-dynalite.test.ts.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoApprovalsStore } from '../../../../shared/adapters/aws/approvals-table.js';
import { release } from '../../../fixtures/slack/context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'shiplane-approvals';
const store = () => dynamoApprovalsStore(new DynamoDBClient({}), TABLE);
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  ddb.reset();
});

describe('the healthy-tag history of a stage (deployed#<app>#<stage>)', () => {
  const KEY = 'deployed#backend#staging';
  const healthy = (n: number) => ({
    tag: `v2.1.${n}`,
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    execution: `backend-v2.1.${n}-run`,
    at: `2026-11-2${n % 10}T10:00:00.000Z`,
    commit: String(n).repeat(40).slice(0, 40),
    release: { ...release(), tag: `v2.1.${n}`, digest: `sha256:${String(n).repeat(64).slice(0, 64)}` },
  });
  const puts = () => ddb.commandCalls(PutCommand).map((call) => call.args[0].input);

  it('creates the item with a one-tag history, the pin and revision 1, only if none is there yet', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});

    // Act
    await store().recordDeployedTag('backend', 'staging', healthy(5));

    // Assess
    const { release: _release, ...flat } = healthy(5);
    expect(puts()).toEqual([
      {
        TableName: TABLE,
        Item: {
          pk: KEY,
          kind: 'deployed',
          ...flat,
          history: [healthy(5)],
          pinned: {
            tag: 'v2.1.5',
            digest: healthy(5).digest,
            execution: healthy(5).execution,
            at: healthy(5).at,
            commit: healthy(5).commit,
          },
          revision: 1,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    ]);
  });

  it('grows the history newest last, with a put conditional on the revision it read', async () => {
    ddb.on(GetCommand).resolves({
      Item: { pk: KEY, kind: 'deployed', history: [healthy(4), healthy(5)], revision: 7 },
    });
    ddb.on(PutCommand).resolves({});

    await store().recordDeployedTag('backend', 'staging', healthy(6));

    expect(puts()[0]).toMatchObject({
      Item: { tag: 'v2.1.6', history: [healthy(4), healthy(5), healthy(6)], revision: 8 },
      ConditionExpression: '#revision = :revision',
      ExpressionAttributeNames: { '#revision': 'revision' },
      ExpressionAttributeValues: { ':revision': 7 },
    });
  });

  it('keeps the last ten tags: the oldest falls off', async () => {
    const ten = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(healthy);
    ddb.on(GetCommand).resolves({ Item: { pk: KEY, kind: 'deployed', history: ten, revision: 10 } });
    ddb.on(PutCommand).resolves({});

    await store().recordDeployedTag('backend', 'staging', {
      ...healthy(0),
      tag: 'v2.2.0',
      digest: `sha256:${'a'.repeat(64)}`,
    });

    const history = puts()[0]?.Item?.history as Array<{ tag: string }>;
    expect(history.map((entry) => entry.tag)).toEqual([
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `v2.1.${n}`),
      'v2.2.0',
    ]);
  });

  it('reads again and retries when another writer got in between, so neither entry is lost', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { pk: KEY, kind: 'deployed', history: [healthy(4)], revision: 1 } })
      .resolves({ Item: { pk: KEY, kind: 'deployed', history: [healthy(4), healthy(5)], revision: 2 } });
    ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});

    await store().recordDeployedTag('backend', 'staging', healthy(6));

    expect(
      puts().map((put) => [
        put.Item?.history.map((e: { tag: string }) => e.tag),
        put.ExpressionAttributeValues,
      ]),
    ).toEqual([
      [['v2.1.4', 'v2.1.6'], { ':revision': 1 }],
      [['v2.1.4', 'v2.1.5', 'v2.1.6'], { ':revision': 2 }],
    ]);
  });

  it('gives up after five conflicting writers and says so', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: KEY, kind: 'deployed', history: [], revision: 1 } });
    ddb.on(PutCommand).rejects(conditionFailed());

    await expect(store().recordDeployedTag('backend', 'staging', healthy(6))).rejects.toThrow(
      /conditional request failed/,
    );
    expect(puts()).toHaveLength(5);
  });

  it('reads an item written before the history as a one-tag history, and upgrades it on the next write', async () => {
    const legacy = {
      tag: 'v2.1.4',
      digest: healthy(4).digest,
      execution: 'old-run',
      at: '2026-11-01T00:00:00Z',
    };
    ddb.on(GetCommand).resolves({ Item: { pk: KEY, kind: 'deployed', ...legacy } });
    ddb.on(PutCommand).resolves({});

    expect(await store().stageTags('backend', 'staging')).toEqual({ healthy: [legacy] });
    await store().recordPinnedTag('backend', 'staging', {
      tag: 'v2.1.7-bad',
      digest: healthy(7).digest,
      execution: 'bad-run',
      at: '2026-11-26T10:00:00.000Z',
      commit: 'c'.repeat(40),
    });

    expect(puts()[0]).toMatchObject({
      Item: {
        ...legacy,
        history: [legacy],
        pinned: { tag: 'v2.1.7-bad', execution: 'bad-run' },
        revision: 1,
      },
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#revision)',
    });
  });

  it('says nothing is recorded for a stage without an item', async () => {
    ddb.on(GetCommand).resolves({});
    expect(await store().stageTags('backend', 'staging')).toBeUndefined();
    expect(await store().deployedTag('backend', 'staging')).toBeUndefined();
  });
});
