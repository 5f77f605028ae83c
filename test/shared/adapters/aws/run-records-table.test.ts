/**
 * The run records adapter against dynalite: the table created as the stack creates it (key, sparse
 * end-time index), the adapter's conditional writes and Query deciding what a report sees.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../../../local/dynamodb/local-dynamo.js';
import { dynamoRunRecords } from '../../../../shared/adapters/aws/run-records-table.js';
import type { RunHeader, RunMilestone } from '../../../../shared/domain/run-record.js';

let dynamo: LocalDynamo;
let table = 0;
let name = '';
beforeAll(async () => {
  dynamo = await startLocalDynamo({ tableName: 'approvals', runRecordsTable: 'runs-0' });
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table += 1;
  name = `runs-${table}`;
  await dynamo.createRunRecordsTable(name);
});
const store = () => dynamoRunRecords(dynamo.client, name);

const DIGEST = `sha256:${'b'.repeat(64)}`;
const header = (execution: string, more: Partial<RunHeader> = {}): RunHeader => ({
  execution,
  app: 'backend',
  tag: 'v2.1.6',
  digest: DIGEST,
  pushedAt: '2026-11-30T09:00:00.000Z',
  kind: 'promotion',
  ...more,
});
const milestone = (
  event: RunMilestone['event'],
  at: string,
  more: Partial<RunMilestone> = {},
): RunMilestone => ({
  event,
  at,
  ...more,
});
const SINCE = new Date('2026-11-30T00:00:00Z');
const UNTIL = new Date('2026-12-01T00:00:00Z');

describe('dynamoRunRecords', () => {
  it('keeps each event as it happens and shows the run only once it is sealed', async () => {
    const runs = store();
    const h = header('backend-v2.1.6-bbbbbbbbbbbb', { retryOf: 'backend-v2.1.6-first' });
    expect(await runs.record(h, milestone('started', '2026-11-30T10:00:00.000Z'))).toEqual({
      status: 'recorded',
    });
    expect(
      await runs.record(
        h,
        milestone('committed', '2026-11-30T10:01:00.000Z', {
          stage: 'staging',
          commit: 'c'.repeat(40),
          changed: true,
        }),
      ),
    ).toEqual({ status: 'recorded' });
    // Running: not in any report yet.
    expect(await runs.ended('backend', SINCE, UNTIL)).toEqual([]);

    const sealed = await runs.record(h, milestone('deployed', '2026-11-30T10:30:00.000Z'), 'deployed');
    expect(sealed.status).toBe('sealed');
    const [stored] = await runs.ended('backend', SINCE, UNTIL);
    // Sealing answers the whole record, as a report reads it.
    expect(sealed.record).toEqual(stored);
    expect(await runs.ended('backend', SINCE, UNTIL)).toEqual([
      {
        execution: 'backend-v2.1.6-bbbbbbbbbbbb',
        app: 'backend',
        tag: 'v2.1.6',
        digest: DIGEST,
        pushedAt: '2026-11-30T09:00:00.000Z',
        kind: 'promotion',
        retryOf: 'backend-v2.1.6-first',
        startedAt: '2026-11-30T10:00:00.000Z',
        endedAt: '2026-11-30T10:30:00.000Z',
        outcome: 'deployed',
        milestones: [
          { event: 'started', at: '2026-11-30T10:00:00.000Z' },
          {
            event: 'committed',
            at: '2026-11-30T10:01:00.000Z',
            stage: 'staging',
            commit: 'c'.repeat(40),
            changed: true,
          },
          { event: 'deployed', at: '2026-11-30T10:30:00.000Z' },
        ],
      },
    ]);
  });

  it('seals once: a retried ending changes neither the outcome nor the end time', async () => {
    const runs = store();
    const h = header('backend-v2.1.7-bad');
    await runs.record(
      h,
      milestone('rolled-back', '2026-11-30T11:00:00.000Z', { stage: 'staging' }),
      'rolled-back',
    );
    expect(
      await runs.record(
        h,
        milestone('rolled-back', '2026-11-30T11:05:00.000Z', { stage: 'staging' }),
        'rolled-back',
      ),
    ).toEqual({ status: 'already-sealed' });
    const [record] = await runs.ended('backend', SINCE, UNTIL);
    expect(record).toMatchObject({ outcome: 'rolled-back', endedAt: '2026-11-30T11:00:00.000Z' });
    expect(record?.milestones).toHaveLength(1);
  });

  it('a manual rollback run is known from its started event, whatever came first', async () => {
    const runs = store();
    const h = header('backend-staging-rollback-v2.1.5-1', { tag: 'v2.1.5' });
    await runs.record(h, milestone('committed', '2026-11-30T12:01:00.000Z', { stage: 'staging' }));
    await runs.record(
      { ...h, kind: 'manual-rollback', rollbackStage: 'staging' },
      milestone('started', '2026-11-30T12:00:00.000Z'),
    );
    await runs.record(h, milestone('deployed', '2026-11-30T12:05:00.000Z'), 'deployed');
    const [record] = await runs.ended('backend', SINCE, UNTIL);
    expect(record).toMatchObject({ kind: 'manual-rollback', rollbackStage: 'staging' });
    // The first event recorded sets the start.
    expect(record?.startedAt).toBe('2026-11-30T12:01:00.000Z');
  });

  it('reads one app, within the window (its end excluded)', async () => {
    const runs = store();
    const ends = [
      '2026-11-29T23:59:59.999Z',
      '2026-11-30T00:00:00.000Z',
      '2026-11-30T12:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ];
    for (const [i, at] of ends.entries()) {
      await runs.record(header(`backend-${i}`), milestone('deployed', at), 'deployed');
    }
    await runs.record(
      header('frontend-0', { app: 'frontend' }),
      milestone('deployed', '2026-11-30T12:00:00.000Z'),
      'deployed',
    );
    const found = await runs.ended('backend', SINCE, UNTIL);
    expect(found.map((r) => r.execution)).toEqual(['backend-1', 'backend-2']);
  });
});
