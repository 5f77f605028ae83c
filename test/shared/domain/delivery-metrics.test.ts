import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deliveryReport,
  median,
  type StageFigures,
  stageRunOf,
  windowDays,
} from '../../../shared/domain/delivery-metrics.js';
import type { RunMilestone, RunRecord } from '../../../shared/domain/run-record.js';

/** Fixed histories: times are minutes after 2026-11-01T00:00Z. */
const T0 = Date.parse('2026-11-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const STAGES = ['staging', 'production'];
const DIGEST = `sha256:${'a'.repeat(64)}`;

let serial = 0;
function run(
  tag: string,
  startMinute: number,
  events: Array<[RunMilestone['event'], string | undefined, number, Partial<RunMilestone>?]>,
  extra: Partial<RunRecord> = {},
): RunRecord {
  serial += 1;
  const milestones = events.map(([event, stage, minute, more]) => ({
    event,
    ...(stage ? { stage } : {}),
    at: at(minute),
    ...(event === 'committed' ? { changed: true } : {}),
    ...more,
  }));
  return {
    execution: `backend-${tag}-${serial}`,
    app: 'backend',
    tag,
    digest: DIGEST,
    pushedAt: at(startMinute - 1),
    kind: 'promotion',
    startedAt: at(startMinute),
    endedAt: milestones.at(-1)?.at ?? at(startMinute),
    outcome: 'deployed',
    milestones,
    ...extra,
  };
}

/** A release through both stages: staging committed and healthy, approved after `wait` minutes, production healthy. */
function deployed(tag: string, start: number, wait = 10, extra: Partial<RunRecord> = {}): RunRecord {
  return run(
    tag,
    start,
    [
      ['started', undefined, start],
      ['committed', 'staging', start + 1],
      ['healthy', 'staging', start + 4],
      ['approval-requested', 'production', start + 5],
      ['approved', 'production', start + 5 + wait],
      ['committed', 'production', start + 6 + wait],
      ['healthy', 'production', start + 9 + wait],
      ['deployed', undefined, start + 9 + wait],
    ],
    extra,
  );
}

/** A release that turned Degraded in staging and was rolled back `restore` minutes later. */
function rolledBackInStaging(tag: string, start: number, restore = 5): RunRecord {
  return run(
    tag,
    start,
    [
      ['started', undefined, start],
      ['committed', 'staging', start + 1],
      ['rolling-back', 'staging', start + 3],
      ['rolled-back', 'staging', start + 3 + restore],
    ],
    { outcome: 'rolled-back' },
  );
}

const window = (sinceMinute: number, untilMinute: number, more: { app?: string; stage?: string } = {}) => ({
  since: new Date(T0 + sinceMinute * 60_000),
  until: new Date(T0 + untilMinute * 60_000),
  stages: STAGES,
  ...more,
});
const DAY = 24 * 60;

const stage = (figures: readonly StageFigures[], name: string) => {
  const found = figures.find((f) => f.stage === name);
  if (!found) throw new Error(`no figures for ${name}`);
  return found;
};

describe('deliveryReport', () => {
  it('an empty window: every figure has no data, counts zero, and deployments are 0 a day (missed in staging)', () => {
    const report = deliveryReport([], window(0, DAY, { app: 'backend' }));
    expect(report.days).toBe(1);
    const staging = stage(report.figures, 'staging');
    const production = stage(report.figures, 'production');
    expect(staging.deploymentFrequency).toMatchObject({ value: 0, status: 'missed', runs: 0 });
    // Production is held to no deployment frequency: measured, not judged.
    expect(production.deploymentFrequency).toMatchObject({ value: 0, status: 'no-target' });
    for (const f of [staging, production]) {
      expect(f.leadTime).toMatchObject({ value: null, status: 'no-data', runs: 0 });
      expect(f.changeFailureRate).toMatchObject({ value: null, status: 'no-data', runs: 0 });
      expect(f.timeToRestore).toMatchObject({ value: null, status: 'no-data', open: 0 });
      expect(f.syncSuccessRate).toMatchObject({ value: null, status: 'no-data' });
      expect(f.rollbackSuccessRate).toMatchObject({ value: null, status: 'no-data' });
      expect(f.approvalWait).toMatchObject({ value: null, status: 'no-data' });
    }
  });

  it('no records and no --app: no apps to report', () => {
    expect(deliveryReport([], window(0, DAY)).figures).toEqual([]);
  });

  it('refuses a window that ends before it starts', () => {
    expect(() => deliveryReport([], window(10, 5))).toThrow(/must end after it starts/);
  });

  it('good releases: deployments per stage, lead time from the push, approval wait, all met', () => {
    const records = [deployed('v1.0.0', 10, 10), deployed('v1.0.1', 300, 30)];
    const report = deliveryReport(records, window(0, DAY));
    const staging = stage(report.figures, 'staging');
    const production = stage(report.figures, 'production');

    expect(staging.deploymentFrequency).toMatchObject({ value: 2, status: 'met', runs: 2 });
    expect(production.deploymentFrequency).toMatchObject({ value: 2, status: 'no-target', runs: 2 });
    // Pushed a minute before the start, production healthy at +19 and +39: 20 and 40 minutes.
    expect(production.leadTime).toMatchObject({ value: 30 * 60, status: 'met', from: { build: 0, push: 2 } });
    expect(production.leadTime.detail).toContain('2 from the push');
    expect(staging.leadTime.status).toBe('no-target');
    expect(production.approvalWait).toMatchObject({ value: 20 * 60, status: 'no-target', runs: 2 });
    expect(staging.approvalWait.value).toBeNull();
    for (const f of [staging, production]) {
      expect(f.changeFailureRate).toMatchObject({ value: 0, status: 'met', runs: 2 });
      expect(f.syncSuccessRate).toMatchObject({ value: 1, status: 'met' });
    }
  });

  it('lead time counts from the image build when its OCI created label is known', () => {
    const built = deployed('v1.0.0', 200, 0, { build: { createdAt: at(0), revision: 'f'.repeat(40) } });
    const production = stage(deliveryReport([built], window(0, DAY)).figures, 'production');
    // Built at 0, production healthy at 209: 3h29m, over the 2h target.
    expect(production.leadTime).toMatchObject({
      value: 209 * 60,
      status: 'missed',
      from: { build: 1, push: 0 },
    });
    expect(production.leadTime.detail).toContain('1 from the image build');
  });

  it('a window with only failures: staging CFR 100 %, production untouched, rollbacks all succeeded', () => {
    const records = [rolledBackInStaging('v1.0.1-bad', 10, 4), rolledBackInStaging('v1.0.2-bad', 100, 8)];
    const report = deliveryReport(records, window(0, DAY));
    const staging = stage(report.figures, 'staging');
    expect(staging.deploymentFrequency).toMatchObject({ value: 0, status: 'missed' });
    expect(staging.changeFailureRate).toMatchObject({ value: 1, status: 'missed', runs: 2 });
    expect(staging.changeFailureRate.detail).toBe('2 of 2 changes failed');
    expect(staging.timeToRestore).toMatchObject({ value: 6 * 60, status: 'met', runs: 2, open: 0 });
    expect(staging.rollbackSuccessRate).toMatchObject({ value: 1, status: 'met', runs: 2 });
    // Two degraded verdicts and two healthy rollbacks.
    expect(staging.syncSuccessRate).toMatchObject({ value: 0.5, status: 'missed' });
    // Staging's failures never reach production's figures.
    const production = stage(report.figures, 'production');
    expect(production.changeFailureRate.value).toBeNull();
    expect(production.timeToRestore.value).toBeNull();
    expect(production.deploymentFrequency.value).toBe(0);
  });

  it('a recovery spanning the window edge: counted whole in the window it was restored in, open in the one before', () => {
    // Degraded in production at minute 50 (no rollback: failed), fixed by the next release at 90.
    const broken = run(
      'v1.0.1',
      30,
      [
        ['committed', 'staging', 31],
        ['healthy', 'staging', 33],
        ['committed', 'production', 45],
        ['degraded', 'production', 50],
      ],
      { outcome: 'failed' },
    );
    const fix = deployed('v1.0.2', 60, 10);
    const records = [broken, fix];
    // Fix: production healthy at 60 + 19 = 79.
    const after = stage(deliveryReport(records, window(60, DAY)).figures, 'production');
    expect(after.timeToRestore).toMatchObject({ value: 29 * 60, status: 'met', runs: 1, open: 0 });
    // The failed change itself was committed before this window: not a change of this window.
    expect(after.changeFailureRate).toMatchObject({ value: 0, runs: 1 });

    const before = stage(deliveryReport(records, window(0, 60)).figures, 'production');
    expect(before.timeToRestore).toMatchObject({ value: null, status: 'no-data', open: 1 });
    expect(before.timeToRestore.detail).toContain('1 still degraded');
    expect(before.changeFailureRate).toMatchObject({ value: 1, status: 'missed', runs: 1 });
  });

  it('a failure nobody restored yet stays open; MTTR over 30 minutes is missed', () => {
    const slow = rolledBackInStaging('v2.0.0-bad', 0, 45);
    const open = run(
      'v2.0.1-bad',
      100,
      [
        ['committed', 'staging', 101],
        ['timed-out', 'staging', 120],
      ],
      {
        outcome: 'failed',
      },
    );
    const staging = stage(deliveryReport([slow, open], window(0, DAY)).figures, 'staging');
    expect(staging.timeToRestore).toMatchObject({ value: 45 * 60, status: 'missed', open: 1 });
    expect(staging.changeFailureRate).toMatchObject({ value: 1, runs: 2 });
  });

  it('retries: a retry that finds staging already at its release changes nothing there', () => {
    const first = run(
      'v1.1.0',
      0,
      [
        ['committed', 'staging', 1],
        ['healthy', 'staging', 3],
        ['approval-requested', 'production', 4],
        ['expired', 'production', 60],
      ],
      { outcome: 'expired' },
    );
    const retry = run(
      'v1.1.0',
      100,
      [
        ['committed', 'staging', 101, { changed: false }],
        ['healthy', 'staging', 102],
        ['approval-requested', 'production', 103],
        ['approved', 'production', 105],
        ['committed', 'production', 106],
        ['healthy', 'production', 110],
        ['deployed', undefined, 110],
      ],
      { retryOf: first.execution, pushedAt: first.pushedAt },
    );
    const report = deliveryReport([first, retry], window(0, DAY));
    const staging = stage(report.figures, 'staging');
    const production = stage(report.figures, 'production');
    expect(staging.deploymentFrequency.runs).toBe(1);
    expect(staging.changeFailureRate.runs).toBe(1);
    expect(production.deploymentFrequency.runs).toBe(1);
    // Expired after 56 minutes, approved after 2: median 29 minutes.
    expect(production.approvalWait).toMatchObject({ value: 29 * 60, runs: 2 });
    // A retry's release was pushed once, before the first run: pushed at -1, healthy at 110.
    expect(production.leadTime.value).toBe(111 * 60);
  });

  it('a notify retried: a repeated milestone counts once', () => {
    const record = deployed('v1.0.0', 0);
    const twice = { ...record, milestones: [...record.milestones, ...record.milestones] };
    const staging = stage(deliveryReport([twice], window(0, DAY)).figures, 'staging');
    expect(staging.deploymentFrequency.runs).toBe(1);
    expect(staging.syncSuccessRate.detail).toBe('1 of 1 sync healthy (100%)');
  });

  it('rollbacks: automatic (landed, failed), manual (healthy) and one a newer release overtook', () => {
    const landed = rolledBackInStaging('v3.0.0-bad', 0, 5);
    const leftDegraded = run(
      'v3.0.1-bad',
      100,
      [
        ['committed', 'staging', 101],
        ['rolling-back', 'staging', 103],
        ['failed', 'staging', 110],
      ],
      { outcome: 'failed' },
    );
    const overtaken = run(
      'v3.0.2-bad',
      200,
      [
        ['committed', 'staging', 201],
        ['rolling-back', 'staging', 203],
        ['superseded', 'staging', 204],
      ],
      { outcome: 'superseded' },
    );
    const manual = run(
      'v2.9.0',
      300,
      [
        ['committed', 'staging', 301],
        ['healthy', 'staging', 305],
      ],
      {
        kind: 'manual-rollback',
        rollbackStage: 'staging',
      },
    );
    const staging = stage(
      deliveryReport([landed, leftDegraded, overtaken, manual], window(0, DAY)).figures,
      'staging',
    );
    expect(staging.rollbackSuccessRate).toMatchObject({ value: 2 / 3, status: 'missed', runs: 3 });
    // A manual rollback is a recovery, not a deployment or a change.
    expect(staging.deploymentFrequency.runs).toBe(0);
    expect(staging.changeFailureRate).toMatchObject({ value: 1, runs: 3 });
    // The left-degraded one is restored by the manual rollback at 305 (from 103); the overtaken
    // one too (from 203); the landed one after 5 minutes.
    expect(staging.timeToRestore).toMatchObject({ runs: 3, open: 0, value: 102 * 60 });
  });

  it('a stageless failure belongs to the stage the run committed to and never saw healthy', () => {
    const failed = run(
      'v4.0.0',
      0,
      [
        ['committed', 'staging', 1],
        ['healthy', 'staging', 2],
        ['committed', 'production', 10],
        ['failed', undefined, 12],
      ],
      { outcome: 'failed' },
    );
    expect(stageRunOf(failed, 'production').failed?.at).toBe(at(12));
    expect(stageRunOf(failed, 'staging').failed).toBeUndefined();
    const report = deliveryReport([failed], window(0, DAY));
    expect(stage(report.figures, 'production').changeFailureRate.value).toBe(1);
    expect(stage(report.figures, 'staging').changeFailureRate.value).toBe(0);
  });

  it('--app and --stage narrow the report', () => {
    const other = { ...deployed('v9', 0), app: 'frontend', execution: 'frontend-v9' };
    const report = deliveryReport(
      [deployed('v1', 0), other],
      window(0, DAY, { app: 'frontend', stage: 'staging' }),
    );
    expect(report.figures.map((f) => [f.app, f.stage])).toEqual([['frontend', 'staging']]);
    expect(report.figures[0]!.deploymentFrequency.runs).toBe(1);
  });
});

describe('daily counts', () => {
  it('a fixed history over 3 days: deployments on the day Healthy, changes and failures on the day committed', () => {
    const records = [
      deployed('v1.0.0', 10), // day 1: staging and production deployed
      rolledBackInStaging('v1.0.1-bad', DAY + 30), // day 2: a failed change in staging
      deployed('v1.0.2', DAY + 100), // day 2
      deployed('v1.0.3', 2 * DAY + 5), // day 3
    ];
    const report = deliveryReport(records, window(0, 3 * DAY, { app: 'backend' }));
    const staging = stage(report.figures, 'staging');
    const production = stage(report.figures, 'production');
    expect(staging.daily).toEqual([
      { start: at(0), end: at(DAY), deployments: 1, changes: 1, failures: 0 },
      { start: at(DAY), end: at(2 * DAY), deployments: 1, changes: 2, failures: 1 },
      { start: at(2 * DAY), end: at(3 * DAY), deployments: 1, changes: 1, failures: 0 },
    ]);
    expect(production.daily.map((d) => [d.deployments, d.changes, d.failures])).toEqual([
      [1, 1, 0],
      [1, 1, 0],
      [1, 1, 0],
    ]);
    // The days add up to the window's counts.
    const sum = (key: 'deployments' | 'changes' | 'failures') =>
      staging.daily.reduce((total, day) => total + day[key], 0);
    expect(sum('deployments')).toBe(staging.deploymentFrequency.runs);
    expect(sum('changes')).toBe(staging.changeFailureRate.runs);
    expect(sum('failures')).toBe(1);
  });

  it('an empty window: every day present, all zero', () => {
    const report = deliveryReport([], window(0, 7 * DAY, { app: 'backend' }));
    for (const f of report.figures) {
      expect(f.daily).toHaveLength(7);
      expect(f.daily.every((d) => d.deployments === 0 && d.changes === 0 && d.failures === 0)).toBe(true);
    }
  });

  it('a window of only failures: failures on their day, no deployments', () => {
    const records = [rolledBackInStaging('v1-bad', 10), rolledBackInStaging('v2-bad', 20)];
    const staging = stage(deliveryReport(records, window(0, DAY, { app: 'backend' })).figures, 'staging');
    expect(staging.daily).toEqual([{ start: at(0), end: at(DAY), deployments: 0, changes: 2, failures: 2 }]);
  });

  it('a change committed before the window and Healthy in it counts its deployment only', () => {
    const record = deployed('v1.0.0', DAY - 5); // staging committed at DAY-4, Healthy at DAY-1; production committed at DAY+11
    const production = stage(
      deliveryReport([record], window(DAY - 2, 2 * DAY, { app: 'backend' })).figures,
      'production',
    );
    expect(production.daily.at(-1)).toMatchObject({ deployments: 1, changes: 1 });
    const staging = stage(
      deliveryReport([record], window(DAY - 2, 2 * DAY, { app: 'backend' })).figures,
      'staging',
    );
    expect(staging.daily.reduce((n, d) => n + d.changes, 0)).toBe(0);
    expect(staging.daily.reduce((n, d) => n + d.deployments, 0)).toBe(1);
  });

  it('windowDays: one day, whole days, a part day first, and a window shorter than a day', () => {
    expect(windowDays(at(0), at(DAY))).toEqual([{ start: at(0), end: at(DAY) }]);
    expect(windowDays(at(0), at(30 * DAY))).toHaveLength(30);
    expect(windowDays(at(0), at(DAY + 12 * 60))).toEqual([
      { start: at(0), end: at(12 * 60) },
      { start: at(12 * 60), end: at(DAY + 12 * 60) },
    ]);
    expect(windowDays(at(0), at(90))).toEqual([{ start: at(0), end: at(90) }]);
  });
});

describe('properties', () => {
  const history = fc.array(
    fc.record({
      start: fc.integer({ min: 0, max: 5 * DAY }),
      bad: fc.boolean(),
      restore: fc.integer({ min: 1, max: 120 }),
      wait: fc.integer({ min: 0, max: 600 }),
    }),
    { maxLength: 30 },
  );
  const recordsOf = (runs: Array<{ start: number; bad: boolean; restore: number; wait: number }>) =>
    runs.map((r, i) =>
      r.bad
        ? rolledBackInStaging(`v0.0.${i}-bad`, r.start, r.restore)
        : deployed(`v0.0.${i}`, r.start, r.wait),
    );

  it('rates stay within 0..1, counts never exceed the runs, and production never counts staging failures', () => {
    fc.assert(
      fc.property(history, (runs) => {
        const report = deliveryReport(recordsOf(runs), window(0, 6 * DAY));
        for (const f of report.figures) {
          for (const rate of [f.changeFailureRate, f.syncSuccessRate, f.rollbackSuccessRate]) {
            if (rate.value !== null) expect(rate.value).toBeGreaterThanOrEqual(0);
            if (rate.value !== null) expect(rate.value).toBeLessThanOrEqual(1);
            expect(rate.runs).toBeLessThanOrEqual(runs.length);
          }
          if (f.stage === 'production') expect(f.changeFailureRate.value ?? 0).toBe(0);
        }
      }),
    );
  });

  it('splitting a window in two never loses a deployment or a change', () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 1, max: 6 * DAY - 1 }), (runs, cut) => {
        const records = recordsOf(runs);
        const whole = deliveryReport(records, window(0, 6 * DAY, { app: 'backend' }));
        const first = deliveryReport(records, window(0, cut, { app: 'backend' }));
        const second = deliveryReport(records, window(cut, 6 * DAY, { app: 'backend' }));
        for (const name of STAGES) {
          const [w, a, b] = [whole, first, second].map((r) => stage(r.figures, name));
          expect(a!.deploymentFrequency.runs + b!.deploymentFrequency.runs).toBe(w!.deploymentFrequency.runs);
          expect(a!.changeFailureRate.runs + b!.changeFailureRate.runs).toBe(w!.changeFailureRate.runs);
          expect(a!.timeToRestore.runs + b!.timeToRestore.runs).toBe(w!.timeToRestore.runs);
          const days = (key: 'deployments' | 'changes') => w!.daily.reduce((n, d) => n + d[key], 0);
          expect(days('deployments')).toBe(w!.deploymentFrequency.runs);
          expect(days('changes')).toBe(w!.changeFailureRate.runs);
        }
      }),
    );
  });

  it('median lies between the smallest and the largest value', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1 }), (values) => {
        const m = median(values)!;
        expect(m).toBeGreaterThanOrEqual(Math.min(...values));
        expect(m).toBeLessThanOrEqual(Math.max(...values));
      }),
    );
  });
});

describe('a run the scan gate blocked', () => {
  it('is no deployment and no change failure: nothing was changed', () => {
    const blocked = run(
      'v2.1.7-vuln',
      10,
      [
        ['started', undefined, 10],
        ['blocked', undefined, 12],
      ],
      { outcome: 'blocked' },
    );
    const report = deliveryReport([deployed('v2.1.6', 0), blocked], window(0, DAY, { app: 'backend' }));
    for (const name of ['staging', 'production']) {
      const figures = stage(report.figures, name);
      expect(figures.deploymentFrequency.runs, name).toBe(1);
      expect(figures.changeFailureRate, name).toMatchObject({ value: 0, runs: 1 });
      expect(figures.leadTime.runs, name).toBe(1);
    }
  });
});
