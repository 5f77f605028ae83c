/**
 * Run records in DynamoDB (the table's shape: shared/contracts/run-records-table.ts). Each event is
 * one UpdateItem on the run's item: the milestone appended, the release's facts set on the first
 * event, and, on the event that ends the run, the outcome and `endedAt` set under the condition that
 * the record is not sealed yet — so a retried notify never seals twice or moves `endedAt`. Reports
 * Query the sparse `by-end` index, one app at a time.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  RUN_RECORD_RETENTION_SECONDS,
  RUN_RECORDS_END_INDEX,
  RUN_RECORDS_END_KEY,
  RUN_RECORDS_PARTITION_KEY,
  RUN_RECORDS_SORT_KEY,
  RUN_RECORDS_TTL_ATTRIBUTE,
} from '../../contracts/run-records-table.js';
import { asRunOutcome, type RunOutcome } from '../../contracts/tasks.js';
import type { RunHeader, RunMilestone, RunRecord } from '../../domain/run-record.js';
import type { Recorded, RunRecordStore } from '../../ports/run-records.js';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/** A stored item as a record; undefined for anything that is not a sealed record. */
export function toRunRecord(item: Record<string, unknown>): RunRecord | undefined {
  const outcome = asRunOutcome(item.outcome);
  const text = (key: string) => (typeof item[key] === 'string' ? (item[key] as string) : undefined);
  const [execution, app, tag, digest, pushedAt, startedAt, endedAt] = [
    RUN_RECORDS_SORT_KEY,
    RUN_RECORDS_PARTITION_KEY,
    'tag',
    'digest',
    'pushedAt',
    'startedAt',
    RUN_RECORDS_END_KEY,
  ].map(text);
  if (!outcome || !execution || !app || !tag || !digest || !pushedAt || !startedAt || !endedAt)
    return undefined;
  const milestones = Array.isArray(item.milestones) ? (item.milestones as RunMilestone[]) : [];
  const build = item.build as RunRecord['build'] | undefined;
  const rollbackStage = text('rollbackStage');
  const retryOf = text('retryOf');
  return {
    execution,
    app,
    tag,
    digest,
    pushedAt,
    ...(build ? { build } : {}),
    kind: item.kind === 'manual-rollback' ? 'manual-rollback' : 'promotion',
    ...(rollbackStage ? { rollbackStage } : {}),
    ...(retryOf ? { retryOf } : {}),
    startedAt,
    endedAt,
    outcome,
    milestones,
  };
}

export function dynamoRunRecords(client: DynamoDBClient, tableName: string): RunRecordStore {
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const TableName = tableName;

  return {
    async record(header: RunHeader, milestone: RunMilestone, outcome?: RunOutcome): Promise<Recorded> {
      const names: Record<string, string> = {
        '#milestones': 'milestones',
        '#startedAt': 'startedAt',
        '#tag': 'tag',
        '#digest': 'digest',
        '#pushedAt': 'pushedAt',
        '#kind': 'kind',
        '#ttl': RUN_RECORDS_TTL_ATTRIBUTE,
      };
      const values: Record<string, unknown> = {
        ':none': [],
        ':one': [milestone],
        ':at': milestone.at,
        ':tag': header.tag,
        ':digest': header.digest,
        ':pushedAt': header.pushedAt,
        ':kind': header.kind,
        ':ttl': Math.floor(Date.parse(milestone.at) / 1000) + RUN_RECORD_RETENTION_SECONDS,
      };
      const sets = [
        '#milestones = list_append(if_not_exists(#milestones, :none), :one)',
        '#startedAt = if_not_exists(#startedAt, :at)',
        '#tag = if_not_exists(#tag, :tag)',
        '#digest = if_not_exists(#digest, :digest)',
        '#pushedAt = if_not_exists(#pushedAt, :pushedAt)',
        // The run's input (the `started` event) says what kind of run it is; other events only guess.
        milestone.event === 'started' ? '#kind = :kind' : '#kind = if_not_exists(#kind, :kind)',
        '#ttl = :ttl',
      ];
      for (const key of ['rollbackStage', 'retryOf'] as const) {
        const value = header[key];
        if (value === undefined) continue;
        names[`#${key}`] = key;
        values[`:${key}`] = value;
        sets.push(`#${key} = :${key}`);
      }
      if (header.build) {
        // The first reading stays: a retried `started` never moves the build the record counts from.
        names['#build'] = 'build';
        values[':build'] = header.build;
        sets.push('#build = if_not_exists(#build, :build)');
      }
      if (outcome) {
        names['#outcome'] = 'outcome';
        names['#endedAt'] = RUN_RECORDS_END_KEY;
        values[':outcome'] = outcome;
        sets.push('#outcome = :outcome', '#endedAt = :at');
      }
      let attributes: Record<string, unknown> | undefined;
      try {
        const answer = await doc.send(
          new UpdateCommand({
            TableName,
            Key: { [RUN_RECORDS_PARTITION_KEY]: header.app, [RUN_RECORDS_SORT_KEY]: header.execution },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ...(outcome
              ? { ConditionExpression: 'attribute_not_exists(#outcome)', ReturnValues: 'ALL_NEW' as const }
              : {}),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        attributes = answer.Attributes;
      } catch (error) {
        if (outcome && isConditionFailure(error)) return { status: 'already-sealed' };
        throw error;
      }
      if (!outcome) return { status: 'recorded' };
      const record = attributes ? toRunRecord(attributes) : undefined;
      return { status: 'sealed', ...(record ? { record } : {}) };
    },

    async ended(app: string, since: Date, until: Date): Promise<RunRecord[]> {
      const records: RunRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName,
            IndexName: RUN_RECORDS_END_INDEX,
            KeyConditionExpression: '#app = :app AND #end BETWEEN :since AND :until',
            ExpressionAttributeNames: { '#app': RUN_RECORDS_PARTITION_KEY, '#end': RUN_RECORDS_END_KEY },
            ExpressionAttributeValues: {
              ':app': app,
              ':since': since.toISOString(),
              ':until': until.toISOString(),
            },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const record = toRunRecord(item);
          // BETWEEN includes its end; the window does not.
          if (record && record.endedAt < until.toISOString()) records.push(record);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return records;
    },
  };
}
