import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ApprovalRecord,
  type Decision,
  dynamoApprovalsStore,
} from '../../../../shared/adapters/aws/approvals-table.js';
import { newThreadState } from '../../../../shared/domain/release-thread.js';
import { approvalRequest, release } from '../../../fixtures/slack/context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'shiplane-approvals';
const store = () => dynamoApprovalsStore(new DynamoDBClient({}), TABLE);
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const record: ApprovalRecord = {
  approvalId: 'a1b2c3',
  execution: 'backend-v1.4.2-4f2c9d1e8a7b',
  stage: 'production',
  taskToken: approvalRequest().taskToken,
  status: 'pending',
  approvers: ['U0PLATFORM1'],
  facts: {
    approvalId: 'a1b2c3',
    execution: 'backend-v1.4.2-4f2c9d1e8a7b',
    stage: 'production',
    app: 'backend',
    tag: 'v1.4.2',
    digest: release().digest,
    ecrRepository: 'itdo-erp/backend',
    approvers: ['U0PLATFORM1'],
    requestedAt: '2026-11-26T14:00:00.000Z',
    deadline: '2026-11-27T14:00:00.000Z',
    history: [],
  },
  createdAt: '2026-11-26T14:00:00.000Z',
  deadline: 1_795_788_000,
  expiresAt: 1_796_392_800,
};
const decision: Decision = {
  status: 'approved',
  by: 'U0PLATFORM1',
  at: '2026-11-26T14:02:00.000Z',
  via: 'slack',
};

beforeEach(() => {
  ddb.reset();
});

describe('dynamoApprovalsStore', () => {
  it('stores an approval under approval#<id> only if none is there yet', async () => {
    ddb.on(PutCommand).resolves({});
    expect(await store().createApproval(record)).toBe('created');
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: 'approval#a1b2c3', kind: 'approval', status: 'pending', expiresAt: 1_796_392_800 },
    });
    ddb.on(PutCommand).rejects(conditionFailed());
    expect(await store().createApproval(record)).toBe('exists');
  });

  it('reads approvals consistently and gives back the record without table keys', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: 'approval#a1b2c3', kind: 'approval', ...record } });
    expect(await store().getApproval('a1b2c3')).toEqual(record);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'approval#a1b2c3' },
      ConsistentRead: true,
    });
  });

  it('claims a decision with a condition on pending and the deadline', async () => {
    const decided = { ...record, status: 'approved', decision };
    ddb.on(UpdateCommand).resolves({ Attributes: { pk: 'approval#a1b2c3', kind: 'approval', ...decided } });
    const result = await store().claimDecision('a1b2c3', decision, 1_795_701_720);
    expect(result).toEqual({ claimed: true, record: decided });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'approval#a1b2c3' },
      UpdateExpression: 'SET #status = :decided, #decision = :decision',
      ConditionExpression: '#status = :pending AND #deadline > :now',
      ExpressionAttributeValues: {
        ':decided': 'approved',
        ':pending': 'pending',
        ':now': 1_795_701_720,
        ':decision': decision,
      },
    });
  });

  it('returns the record as it is when the claim loses', async () => {
    const taken = { ...record, status: 'rejected', decision: { ...decision, status: 'rejected' } };
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: { pk: 'approval#a1b2c3', kind: 'approval', ...taken } });
    expect(await store().claimDecision('a1b2c3', decision, 1)).toEqual({ claimed: false, record: taken });
  });

  it('lets other DynamoDB errors through', async () => {
    ddb.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(store().claimDecision('a1b2c3', decision, 1)).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
  });

  it('releases only its own claim', async () => {
    ddb.on(UpdateCommand).resolves({});
    expect(await store().releaseClaim('a1b2c3', decision)).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      UpdateExpression: 'SET #status = :pending REMOVE #decision',
      ConditionExpression: '#status = :decided AND #decision.#at = :at AND #decision.#by = :by',
    });
    ddb.on(UpdateCommand).rejects(conditionFailed());
    expect(await store().releaseClaim('a1b2c3', decision)).toBe(false);
  });

  it('closes an approval only from the statuses given', async () => {
    ddb.on(UpdateCommand).resolves({});
    expect(
      await store().closeApproval('a1b2c3', ['pending', 'approved'], 'expired', '2026-11-27T14:00:00Z'),
    ).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: '#status IN (:from0, :from1)',
      ExpressionAttributeValues: { ':to': 'expired', ':from0': 'pending', ':from1': 'approved' },
    });
    ddb.on(UpdateCommand).rejects(conditionFailed());
    expect(await store().closeApproval('a1b2c3', ['pending'], 'expired', 'x')).toBe(false);
  });

  it('replaces only its own claim with the decision the run received', async () => {
    ddb.on(UpdateCommand).resolves({});
    const actual: Decision = { ...decision, by: 'U0BOB00001', at: '2026-11-26T14:01:00.000Z' };
    expect(await store().settleClaim('a1b2c3', decision, actual)).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'approval#a1b2c3' },
      UpdateExpression: 'SET #status = :actual, #decision = :decision',
      ConditionExpression: '#status = :claimed AND #decision.#at = :at AND #decision.#by = :by',
      ExpressionAttributeValues: {
        ':actual': 'approved',
        ':decision': actual,
        ':claimed': 'approved',
        ':at': decision.at,
        ':by': decision.by,
      },
    });
    ddb.on(UpdateCommand).rejects(conditionFailed());
    expect(await store().settleClaim('a1b2c3', decision, actual)).toBe(false);
  });

  it('notes which older approval an approval supersedes, on an item that exists', async () => {
    ddb.on(UpdateCommand).resolves({});
    await store().noteSupersedes('a1b2c3', 'older0');
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'approval#a1b2c3' },
      UpdateExpression: 'SET #name = :value',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#name': 'supersedes' },
      ExpressionAttributeValues: { ':value': 'older0' },
    });
  });

  it("points a run's stage at its approval and says which one it pointed at before", async () => {
    ddb.on(PutCommand).resolves({ Attributes: { pk: 'execution#run#production', approvalId: 'old' } });
    expect(await store().pointToApproval('run', 'production', 'new', 99)).toBe('old');
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      Item: { pk: 'execution#run#production', kind: 'pointer', approvalId: 'new', expiresAt: 99 },
      ReturnValues: 'ALL_OLD',
    });
    ddb.on(GetCommand).resolves({ Item: { pk: 'execution#run#production', approvalId: 'new' } });
    expect(await store().approvalIdFor('run', 'production')).toBe('new');
  });

  it("points an app's stage at its newest approval request and returns the one it replaced", async () => {
    ddb
      .on(PutCommand)
      .resolvesOnce({})
      .resolves({
        Attributes: {
          pk: 'pending#backend#production',
          kind: 'pending',
          approvalId: 'older',
          tag: 'v2.1.6',
          execution: 'run-1',
          expiresAt: 50,
        },
      });
    const pointer = { approvalId: 'newer', tag: 'v2.1.7', execution: 'run-2' };
    expect(await store().pointToPendingApproval('backend', 'production', pointer, 99)).toBeUndefined();
    expect(await store().pointToPendingApproval('backend', 'production', pointer, 99)).toEqual({
      approvalId: 'older',
      tag: 'v2.1.6',
      execution: 'run-1',
    });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: expect.any(String),
      Item: { pk: 'pending#backend#production', kind: 'pending', ...pointer, expiresAt: 99 },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('keeps the first thread when two writers create one', async () => {
    const state = newThreadState('run', release(), new Date('2026-11-26T14:00:00Z'));
    const first = { execution: 'run', channel: 'C0DEPLOYS1', ts: '1.000001', state };
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: { pk: 'thread#run', kind: 'thread', ...first } });
    expect(await store().createThread({ ...first, ts: '2.000002' }, 5)).toEqual(first);
  });

  it('saves the thread state and the tag last seen healthy', async () => {
    ddb.on(UpdateCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).resolves({});
    const state = newThreadState('run', release(), new Date('2026-11-26T14:00:00Z'));
    await store().saveThreadState('run', state);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'thread#run' },
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#name': 'state' },
      ExpressionAttributeValues: { ':value': state },
    });
    const tag = { tag: 'v1.4.1', digest: release().digest, execution: 'run', at: '2026-11-20T10:00:00Z' };
    await store().recordDeployedTag('backend', 'production', tag);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      pk: 'deployed#backend#production',
      ...tag,
    });
    ddb.on(GetCommand).resolves({ Item: { pk: 'deployed#backend#production', kind: 'deployed', ...tag } });
    expect(await store().deployedTag('backend', 'production')).toEqual(tag);
  });
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
