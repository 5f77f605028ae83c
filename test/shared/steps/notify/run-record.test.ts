/**
 * A run's record as notify keeps it, against dynalite: every event a milestone, the ending sealing it
 * once, and the run's delivery metrics sent on that seal only (a retried ending sends nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../../../local/dynamodb/local-dynamo.js';
import { dynamoRunRecords } from '../../../../shared/adapters/aws/run-records-table.js';
import type { Notification } from '../../../../shared/contracts/tasks.js';
import type { DeliveryPoint } from '../../../../shared/domain/delivery-metrics.js';
import type { ImageLabelsSource } from '../../../../shared/ports/image-labels.js';
import { recordRunEvent } from '../../../../shared/steps/notify/run-record.js';
import { notification, recordingReporter } from '../../../fixtures/slack/context.js';

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

describe('recordRunEvent: lead time from the image build', () => {
  const BUILT = '2026-11-26T13:20:00.000Z'; // the push was at 13:40
  const labelled =
    (labels: Record<string, string>): ImageLabelsSource =>
    async () =>
      labels;

  /** A release deployed to staging (healthy at 14:05) and production; what was sent and recorded. */
  async function deploy(execution: string, imageLabels: ImageLabelsSource | undefined) {
    const runs = dynamoRunRecords(dynamo.client, dynamo.runRecordsTable);
    const reporter = recordingReporter();
    const sent: DeliveryPoint[] = [];
    const deps = {
      runs,
      stageOrder: ['staging', 'production'],
      deliveryMetrics: (p: readonly DeliveryPoint[]) => sent.push(...p),
      ...(imageLabels ? { imageLabels } : {}),
      reporter,
    };
    const committed = { commit: SHA, status: 'committed', previousTag: 'v1.4.1' };
    const events: Array<[Notification, number]> = [
      [notification('started', { execution, detail: { release: {} } }), 0],
      [notification('committed', { execution, stage: 'staging', detail: committed }), 1],
      [notification('healthy', { execution, stage: 'staging', detail: health }), 5],
      [notification('committed', { execution, stage: 'production', detail: committed }), 6],
      [notification('healthy', { execution, stage: 'production', detail: health }), 10],
      [notification('deployed', { execution, detail: {} }), 11],
    ];
    const statuses = [];
    for (const [event, at] of events) statuses.push(await recordRunEvent(event, deps, minute(at)));
    const record = (await runs.ended('backend', minute(-60), minute(60))).find(
      (r) => r.execution === execution,
    );
    const leadTime = Object.fromEntries(
      sent.filter((p) => p.name === 'LeadTime').map((p) => [p.stage, p.value]),
    );
    return { statuses, record, leadTime, reporter };
  }

  it('counts from the OCI created label when the image carries it, and keeps the revision', async () => {
    let reads = 0;
    const { statuses, record, leadTime, reporter } = await deploy('backend-built', async (release) => {
      reads += 1;
      expect(release.digest).toMatch(/^sha256:/);
      return {
        'org.opencontainers.image.created': '2026-11-26T14:20:00+01:00',
        'org.opencontainers.image.revision': 'a1b2c3d',
      };
    });
    expect(statuses.at(-1)).toBe('sealed');
    expect(reads).toBe(1);
    expect(record?.build).toEqual({ createdAt: BUILT, revision: 'a1b2c3d' });
    // staging healthy 14:05, production 14:10: from the build at 13:20.
    expect(leadTime).toEqual({ staging: 45 * 60, production: 50 * 60 });
    expect(reporter.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('counts from the push when the image has no labels, and says so', async () => {
    const { record, leadTime, reporter } = await deploy('backend-unlabelled', labelled({}));
    expect(record?.build).toBeUndefined();
    expect(leadTime).toEqual({ staging: 25 * 60, production: 30 * 60 });
    expect(reporter.lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: expect.stringContaining('lead time counts from the push'),
      }),
    );
  });

  it('counts from the push when the created label is not a time, keeps the revision, and warns', async () => {
    const { record, leadTime, reporter } = await deploy(
      'backend-malformed',
      labelled({
        'org.opencontainers.image.created': 'last Tuesday',
        'org.opencontainers.image.revision': 'a1b2c3d',
      }),
    );
    expect(record?.build).toEqual({ revision: 'a1b2c3d' });
    expect(leadTime).toEqual({ staging: 25 * 60, production: 30 * 60 });
    expect(reporter.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        attributes: expect.objectContaining({
          problems: ['org.opencontainers.image.created is not an RFC 3339 time: "last Tuesday"'],
        }),
      }),
    );
  });

  it('never fails the run when the labels cannot be read: it counts from the push and says why', async () => {
    const { statuses, record, leadTime, reporter } = await deploy('backend-unreadable', async () => {
      throw new Error('downloading the image config answered HTTP 403');
    });
    expect(statuses).toEqual(['recorded', 'recorded', 'recorded', 'recorded', 'recorded', 'sealed']);
    expect(record?.build).toBeUndefined();
    expect(leadTime).toEqual({ staging: 25 * 60, production: 30 * 60 });
    expect(reporter.counts).toEqual(['ImageLabelsUnread']);
    expect(reporter.lines).toContainEqual({
      level: 'warn',
      message: "could not read the image's OCI labels; lead time counts from the push",
      attributes: expect.objectContaining({
        app: 'backend',
        message: 'downloading the image config answered HTTP 403',
      }),
    });
  });

  it('keeps the first reading when a retried started event reads again', async () => {
    const runs = dynamoRunRecords(dynamo.client, dynamo.runRecordsTable);
    const execution = 'backend-retried-start';
    const started = notification('started', { execution, detail: { release: {} } });
    const deps = (created: string) => ({
      runs,
      stageOrder: ['staging', 'production'],
      imageLabels: labelled({ 'org.opencontainers.image.created': created }),
    });
    await recordRunEvent(started, deps('2026-11-26T13:20:00Z'), minute(0));
    await recordRunEvent(started, deps('2026-11-26T13:30:00Z'), minute(1));
    await recordRunEvent(notification('failed', { execution, detail: {} }), deps('unused'), minute(2));
    const record = (await runs.ended('backend', minute(-60), minute(60))).find(
      (r) => r.execution === execution,
    );
    expect(record?.build).toEqual({ createdAt: BUILT });
  });

  it('reads nothing for a manual rollback (an older image, no lead time)', async () => {
    let reads = 0;
    const runs = dynamoRunRecords(dynamo.client, dynamo.runRecordsTable);
    const status = await recordRunEvent(
      notification('started', {
        execution: 'backend-rollback',
        detail: {
          release: {},
          rollback: { stage: 'production', from: { tag: 'v1.4.2' }, reason: 'broken login' },
        },
      }),
      {
        runs,
        stageOrder: ['staging', 'production'],
        imageLabels: async () => {
          reads += 1;
          return {};
        },
      },
      minute(0),
    );
    expect(status).toBe('recorded');
    expect(reads).toBe(0);
    // The same event for a promotion reads them.
    await recordRunEvent(
      notification('started', { execution: 'backend-promotion', detail: { release: {} } }),
      {
        runs,
        stageOrder: ['staging', 'production'],
        imageLabels: async () => {
          reads += 1;
          return {};
        },
      },
      minute(0),
    );
    expect(reads).toBe(1);
  });
});
