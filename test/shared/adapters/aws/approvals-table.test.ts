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
