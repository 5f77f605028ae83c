/**
 * A run's record as notify keeps it, against dynalite: every event a milestone, the ending sealing it
 * once, and the run's delivery metrics sent on that seal only (a retried ending sends nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../../../local/dynamodb/local-dynamo.js';
import { dynamoRunRecords } from '../../../../shared/adapters/aws/run-records-table.js';
import type { Notification } from '../../../../shared/contracts/tasks.js';
import type { DeliveryPoint } from '../../../../shared/domain/delivery-metrics.js';
import { recordRunEvent } from '../../../../shared/steps/notify/run-record.js';
import { notification } from '../../../fixtures/slack/context.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const SHA = '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
const health = {
  status: 'healthy',
  message: 'ok',
  revision: SHA,
  syncStatus: 'Synced',
  healthStatus: 'Healthy',
  checkedAt: '2026-11-26T14:05:00Z',
  attempt: 1,
};
const minute = (m: number) => new Date(Date.parse('2026-11-26T14:00:00Z') + m * 60_000);

describe('recordRunEvent', () => {
  it('records a degraded staging change rolled back, seals it on rolled-back, and sends its metrics once', async () => {
    const runs = dynamoRunRecords(dynamo.client, dynamo.runRecordsTable);
    const sent: DeliveryPoint[][] = [];
    const deps = {
      runs,
      stageOrder: ['staging', 'production'],
      deliveryMetrics: (p: readonly DeliveryPoint[]) => sent.push([...p]),
    };
    const rollback = {
      target: { tag: 'v1.4.1' },
      pinDigest: false,
      error: 'Shiplane.Degraded',
      reason: 'staging is Degraded',
      health,
    };
    const events: Array<[Notification, number]> = [
      [notification('started', { detail: { release: {} } }), 0],
      [
        notification('committed', {
          stage: 'staging',
          detail: { commit: SHA, status: 'committed', previousTag: 'v1.4.1' },
        }),
        1,
      ],
      [notification('rolling-back', { stage: 'staging', detail: rollback }), 3],
      [notification('rolled-back', { stage: 'staging', detail: rollback }), 10],
    ];
    const statuses = [];
    for (const [event, at] of events) statuses.push(await recordRunEvent(event, deps, minute(at)));
    expect(statuses).toEqual(['recorded', 'recorded', 'recorded', 'sealed']);
    // notify retried after the seal: nothing changes, nothing is sent again.
    expect(await recordRunEvent(events[3]![0], deps, minute(11))).toBe('already-sealed');

    const [record] = await runs.ended('backend', minute(-60), minute(60));
    expect(record).toMatchObject({
      outcome: 'rolled-back',
      endedAt: minute(10).toISOString(),
      kind: 'promotion',
    });
    expect(record?.milestones.map((m) => m.event)).toEqual([
      'started',
      'committed',
      'rolling-back',
      'rolled-back',
    ]);
    expect(record?.milestones[1]).toMatchObject({ commit: SHA, changed: true });

    expect(sent).toHaveLength(1);
    const points = Object.fromEntries(sent[0]!.map((p) => [`${p.stage}:${p.name}`, p.value]));
    expect(points).toEqual({
      'staging:Changes': 1,
      'staging:ChangeFailures': 1,
      'staging:TimeToRestore': 7 * 60,
      'staging:SyncFailed': 1,
      'staging:SyncSucceeded': 1,
      'staging:Rollbacks': 1,
      'staging:RollbacksSucceeded': 1,
    });
    expect(sent[0]!.every((p) => p.app === 'backend')).toBe(true);
  });
});
