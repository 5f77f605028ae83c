/**
 * What a release claim asks of DynamoDB, which a local DynamoDB cannot judge: exactly one PutItem
 * that returns the old item on failure (the intake's IAM policy allows PutItem on release# items and
 * nothing else, so no read may follow), and a refusal to guess when the failure carries no item.
 * Behaviour is tested against dynalite in release-claims.test.ts.
 */
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoReleaseClaims, releaseKey } from '../../../../shared/adapters/aws/release-claims.js';

const ddb = mockClient(DynamoDBClient);
const TABLE = 'shiplane-approvals';
const claims = () => dynamoReleaseClaims(new DynamoDBClient({}), TABLE);
const FIRST = `sha256:${'1'.repeat(64)}`;
const SECOND = `sha256:${'2'.repeat(64)}`;
const request = (digest: string) => ({
  app: 'backend',
  tag: 'v1.4.2',
  digest,
  execution: `backend-v1.4.2-${digest.slice(7, 19)}`,
  at: '2026-11-26T14:00:00.000Z',
});
/** What DynamoDB answers a failed condition with ReturnValuesOnConditionCheckFailure: ALL_OLD. */
const taken = (digest: string) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: {
      pk: { S: 'release#backend#v1.4.2' },
      kind: { S: 'release' },
      digest: { S: digest },
      execution: { S: 'backend-v1.4.2-111111111111' },
    },
  });

beforeEach(() => {
  ddb.reset();
});

describe('dynamoReleaseClaims requests', () => {
  it('claims a new tag with one conditional put of its release# item that returns the old item on failure', async () => {
    ddb.on(PutItemCommand).resolves({});

    const claim = await claims().claim(request(FIRST));

    expect(claim).toEqual({ status: 'claimed' });
    const calls = ddb.commandCalls(PutItemCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk: { S: 'release#backend#v1.4.2' },
        kind: { S: 'release' },
        app: { S: 'backend' },
        tag: { S: 'v1.4.2' },
        digest: { S: FIRST },
        execution: { S: 'backend-v1.4.2-111111111111' },
        at: { S: '2026-11-26T14:00:00.000Z' },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(releaseKey('backend', 'v1.4.2')).toBe('release#backend#v1.4.2');
  });

  it('learns the claimed digest from the failed put alone: no read follows', async () => {
    ddb.on(PutItemCommand).rejects(taken(FIRST));

    expect(await claims().claim(request(SECOND))).toMatchObject({ status: 'conflict', claimedDigest: FIRST });
    expect(ddb.calls()).toHaveLength(1);
  });

  it('fails when a condition failure carries no old item, rather than guessing', async () => {
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    await expect(claims().claim(request(FIRST))).rejects.toThrow(/release#backend#v1\.4\.2 exists but/);
  });
});
