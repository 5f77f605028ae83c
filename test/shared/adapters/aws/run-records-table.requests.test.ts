/**
 * What the run records adapter asks of DynamoDB: one UpdateItem per event keyed by app and execution,
 * conditional only when it seals; a Query of the end-time index that follows every page. Behaviour
 * is tested against dynalite in run-records-table.test.ts.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoRunRecords } from '../../../../shared/adapters/aws/run-records-table.js';

const ddb = mockClient(DynamoDBDocumentClient);
const runs = () => dynamoRunRecords(new DynamoDBClient({}), 'shiplane-runs');
const DIGEST = `sha256:${'b'.repeat(64)}`;
const header = {
  execution: 'backend-v2.1.6-bbbbbbbbbbbb',
  app: 'backend',
  tag: 'v2.1.6',
  digest: DIGEST,
  pushedAt: '2026-11-30T09:00:00.000Z',
  kind: 'promotion' as const,
};
const item = (execution: string, endedAt: string) => ({
  app: 'backend',
  execution,
  tag: 'v2.1.6',
  digest: DIGEST,
  pushedAt: '2026-11-30T09:00:00.000Z',
  kind: 'promotion',
  startedAt: '2026-11-30T10:00:00.000Z',
  endedAt,
  outcome: 'deployed',
  milestones: [{ event: 'deployed', at: endedAt }],
  expiresAt: 1,
});

beforeEach(() => {
  ddb.reset();
});

describe('dynamoRunRecords requests', () => {
  it('an event: one unconditional UpdateItem keyed by app and execution, with a TTL', async () => {
    ddb.on(UpdateCommand).resolves({});
    await runs().record(header, { event: 'committed', stage: 'staging', at: '2026-11-30T10:01:00.000Z' });
    const calls = ddb.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.TableName).toBe('shiplane-runs');
    expect(input.Key).toEqual({ app: 'backend', execution: 'backend-v2.1.6-bbbbbbbbbbbb' });
    expect(input.ConditionExpression).toBeUndefined();
    expect(input.UpdateExpression).toContain('list_append');
    expect(input.UpdateExpression).not.toContain('#outcome');
    expect(input.ExpressionAttributeValues?.[':ttl']).toBe(
      Math.floor(Date.parse('2026-11-30T10:01:00.000Z') / 1000) + 400 * 86_400,
    );
  });

  it('the ending: conditional on no outcome yet; a failed condition is a retried ending, anything else throws', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    const ending = { event: 'deployed' as const, at: '2026-11-30T10:30:00.000Z' };
    expect(await runs().record(header, ending, 'deployed')).toEqual({ status: 'already-sealed' });
    await expect(runs().record(header, ending, 'deployed')).rejects.toThrow('throttled');
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(#outcome)');
    expect(input.ReturnValues).toBe('ALL_NEW');
    expect(input.ExpressionAttributeValues?.[':outcome']).toBe('deployed');
  });

  it('a report: the by-end index of one app, every page, unsealed or foreign items left out', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [item('a', '2026-11-30T01:00:00.000Z'), { app: 'backend', execution: 'running' }],
        LastEvaluatedKey: { app: 'backend', execution: 'a', endedAt: '2026-11-30T01:00:00.000Z' },
      })
      .resolvesOnce({
        Items: [item('b', '2026-11-30T02:00:00.000Z'), item('edge', '2026-12-01T00:00:00.000Z')],
      });
    const found = await runs().ended(
      'backend',
      new Date('2026-11-30T00:00:00Z'),
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(found.map((r) => r.execution)).toEqual(['a', 'b']);
    const calls = ddb.commandCalls(QueryCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input).toMatchObject({
      TableName: 'shiplane-runs',
      IndexName: 'by-end',
      ExpressionAttributeValues: {
        ':app': 'backend',
        ':since': '2026-11-30T00:00:00.000Z',
        ':until': '2026-12-01T00:00:00.000Z',
      },
    });
    expect(calls[1]!.args[0].input.ExclusiveStartKey).toEqual({
      app: 'backend',
      execution: 'a',
      endedAt: '2026-11-30T01:00:00.000Z',
    });
  });
});
