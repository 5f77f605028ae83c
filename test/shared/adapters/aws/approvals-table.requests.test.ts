/**
 * What the approvals store asks of DynamoDB that a local DynamoDB cannot show: dynalite reads are
 * always current, while DynamoDB's default reads may be stale — a decision read just after a click
 * must see it. Behaviour is tested against dynalite in approvals-table.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoApprovalsStore } from '../../../../shared/adapters/aws/approvals-table.js';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'shiplane-approvals';
const store = () => dynamoApprovalsStore(new DynamoDBClient({}), TABLE);

beforeEach(() => {
  ddb.reset();
});

describe('dynamoApprovalsStore requests', () => {
  it('reads every item strongly consistently', async () => {
    ddb.on(GetCommand).resolves({});
    await store().getApproval('a1b2c3');
    await store().approvalIdFor('run', 'production');
    await store().getThread('run');
    await store().deployedTag('backend', 'production');

    expect(ddb.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([
      { TableName: TABLE, Key: { pk: 'approval#a1b2c3' }, ConsistentRead: true },
      { TableName: TABLE, Key: { pk: 'execution#run#production' }, ConsistentRead: true },
      { TableName: TABLE, Key: { pk: 'thread#run' }, ConsistentRead: true },
      { TableName: TABLE, Key: { pk: 'deployed#backend#production' }, ConsistentRead: true },
    ]);
  });

  it('reads the record a lost claim leaves strongly consistently, right after the failed update', async () => {
    ddb.on(UpdateCommand).rejects(
      Object.assign(new Error('The conditional request failed'), {
        name: 'ConditionalCheckFailedException',
      }),
    );
    ddb.on(GetCommand).resolves({});

    await store().claimDecision(
      'a1b2c3',
      { status: 'approved', by: 'U0PLATFORM1', at: 't', via: 'slack' },
      1,
    );

    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'approval#a1b2c3' },
      ConsistentRead: true,
    });
  });
});
