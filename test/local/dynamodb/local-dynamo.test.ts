import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOCAL_APPROVALS_TABLE,
  type LocalDynamo,
  startLocalDynamo,
} from '../../../local/dynamodb/local-dynamo.js';
import { APPROVALS_PARTITION_KEY } from '../../../shared/contracts/approvals-table.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

/** What a failed conditional write reports, or undefined when it succeeded. */
async function failure(send: Promise<unknown>) {
  return send.then(
    () => undefined,
    (error: unknown) => error as ConditionalCheckFailedException,
  );
}

const put = (pk: string, digest: string, returnOnFailure?: 'ALL_OLD' | 'NONE') =>
  dynamo.client.send(
    new PutItemCommand({
      TableName: dynamo.tableName,
      Item: { pk: { S: pk }, digest: { S: digest } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ...(returnOnFailure ? { ReturnValuesOnConditionCheckFailure: returnOnFailure } : {}),
    }),
  );

describe('startLocalDynamo', () => {
  // The CDK construct builds the deployed table from the same contract (test/infra/stack.test.ts).
  it("listens on 127.0.0.1 with the approvals table: the contract's string partition key, on demand", async () => {
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dynamo.tableName).toBe(LOCAL_APPROVALS_TABLE);
    const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: dynamo.tableName }));

    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: APPROVALS_PARTITION_KEY, KeyType: 'HASH' }]);
    expect(Table?.AttributeDefinitions).toEqual([
      { AttributeName: APPROVALS_PARTITION_KEY, AttributeType: 'S' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('returns the stored item with a failed condition when asked, as DynamoDB does', async () => {
    await put('release#backend#v1', 'first');

    const asked = await failure(put('release#backend#v1', 'second', 'ALL_OLD'));
    expect(asked).toBeInstanceOf(ConditionalCheckFailedException);
    expect(asked?.Item).toEqual({ pk: { S: 'release#backend#v1' }, digest: { S: 'first' } });

    expect((await failure(put('release#backend#v1', 'second', 'NONE')))?.Item).toBeUndefined();
    expect((await failure(put('release#backend#v1', 'second')))?.Item).toBeUndefined();
  });

  it('returns no item when the condition failed on an item that does not exist', async () => {
    const missing = await failure(
      dynamo.client.send(
        new UpdateItemCommand({
          TableName: dynamo.tableName,
          Key: { pk: { S: 'approval#missing' } },
          UpdateExpression: 'SET #s = :s',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': { S: 'approved' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );

    expect(missing).toBeInstanceOf(ConditionalCheckFailedException);
    expect(missing?.Item).toBeUndefined();
  });

  it('refuses a ReturnValuesOnConditionCheckFailure DynamoDB does not know', async () => {
    await expect(put('release#backend#v2', 'first', 'ALL_NEW' as 'ALL_OLD')).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('keeps two local DynamoDBs apart and stops listening when closed', async () => {
    const other = await startLocalDynamo();
    await other.client.send(
      new PutItemCommand({ TableName: other.tableName, Item: { pk: { S: 'release#backend#v1' } } }),
    );
    expect((await failure(put('release#backend#v1', 'again', 'ALL_OLD')))?.Item?.digest).toEqual({
      S: 'first',
    });
    await other.close();

    await expect(fetch(other.endpoint)).rejects.toThrow();
  });
});
