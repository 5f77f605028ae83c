/**
 * Delivery figures from run records: the four DORA keys and Shiplane's operational figures, per app
 * and stage over a window, each beside its target. Pure: records in, figures out; the CLI, the
 * sandbox API (and later a dashboard or the console) all draw from here.
 *
 * Definitions (the README repeats them next to `shiplane metrics`):
 * - change: a promotion run that committed a new entry to the stage (a retry finding the stage already
 *   at its release changes nothing);
 * - deployment: a change that Argo CD then reported Synced and Healthy in the stage;
 * - failure: a change that then degraded, timed out, was rolled back, or failed in the stage;
 * - time to restore: from Degraded seen (or the failure, when no Degraded was seen) to the stage
 *   Healthy again, at the rollback's commit or at any later run's; counted in the window the stage
 *   was restored in, so an incident that began before the window is counted whole;
 * - sync success: Argo CD verdicts in the stage (ours and rollbacks'), healthy over all that ended
 *   healthy, degraded or timed out;
 * - rollback success: rollbacks (automatic and `shiplane rollback`) that got healthy, over those that
 *   ended (a rollback a newer release overtook is neither);
 * - approval wait: from the approval asked to the decision (approved, rejected or expired);
 * - daily counts (the console's chart): the window cut into days of 24 hours ending at its end (the
 *   first one shorter when the window is not whole days); a day counts the deployments Healthy in it
 *   and the changes committed in it with how many of those failed, so the days add up to the
 *   deployment frequency's and the change failure rate's counts.
 * Each stage stands alone: staging's failures never enter production's figures.
 */

import type { RunMilestone, RunRecord } from './run-record.js';
import { distinctMilestones } from './run-record.js';

export type FigureName =
  | 'deploymentFrequency'
  | 'leadTime'
  | 'changeFailureRate'
  | 'timeToRestore'
  | 'syncSuccessRate'
  | 'rollbackSuccessRate'
  | 'approvalWait';

export type FigureUnit = 'per-day' | 'seconds' | 'ratio';

/** A target a figure is held to: the figure must be at least, below or above `value`. */
export interface Target {
  readonly comparison: 'at-least' | 'below' | 'above';
  readonly value: number;
  /** How a person reads it: `≥ 1 a day`, `< 2h`. */
  readonly text: string;
}

/** `no-data`: nothing in the window to measure; `no-target`: measured, but held to nothing here. */
export type FigureStatus = 'met' | 'missed' | 'no-data' | 'no-target';

export interface Figure {
  readonly value: number | null;
  readonly unit: FigureUnit;
  readonly target: Target | null;
  readonly status: FigureStatus;
  /** How many runs the figure counted. */
  readonly runs: number;
  /** What was counted, in words and numbers (`3 of 40 changes failed`). */
  readonly detail: string;
}

export interface LeadTimeFigure extends Figure {
  /** How many deployments counted from the image's build (OCI `created` label) and how many from the push. */
  readonly from: { readonly build: number; readonly push: number };
}

export interface RestoreFigure extends Figure {
  /** Incidents degraded and not restored by the window's end. */
  readonly open: number;
}

/** One day of a stage's window: what the console's daily chart draws. */
export interface DayCount {
  /** The day's start and end (ISO 8601); the last day ends with the window. */
  readonly start: string;
  readonly end: string;
  readonly deployments: number;
  readonly changes: number;
  /** Changes committed this day that then failed. */
  readonly failures: number;
}

export interface StageFigures {
  readonly app: string;
  readonly stage: string;
  readonly production: boolean;
  readonly deploymentFrequency: Figure;
  readonly leadTime: LeadTimeFigure;
  readonly changeFailureRate: Figure;
  readonly timeToRestore: RestoreFigure;
  readonly syncSuccessRate: Figure;
  readonly rollbackSuccessRate: Figure;
  readonly approvalWait: Figure;
  /** The window day by day, oldest first. */
  readonly daily: readonly DayCount[];
}

export interface DeliveryReport {
  readonly since: string;
  readonly until: string;
  readonly days: number;
  readonly figures: readonly StageFigures[];
}

export interface MetricsWindow {
  readonly since: Date;
  readonly until: Date;
  /** The configured stages in order; the last one is production. */
  readonly stages: readonly string[];
  /** The apps to report (the configured ones); default: every app with records. */
  readonly apps?: readonly string[];
  /** Only this app / stage (`--app`, `--stage`). */
  readonly app?: string;
  readonly stage?: string;
}

/** The design's targets (ITDO ERP: daily to staging, lead time < 2 h, CFR < 5 %, MTTR < 30 min, …). */
export const TARGETS = {
  deploymentFrequency: { comparison: 'at-least', value: 1, text: '≥ 1 a day' },
  leadTime: { comparison: 'below', value: 2 * 3600, text: '< 2h' },
  changeFailureRate: { comparison: 'below', value: 0.05, text: '< 5%' },
  timeToRestore: { comparison: 'below', value: 30 * 60, text: '< 30m' },
  syncSuccessRate: { comparison: 'above', value: 0.99, text: '> 99%' },
  rollbackSuccessRate: { comparison: 'above', value: 0.95, text: '> 95%' },
} as const satisfies Partial<Record<FigureName, Target>>;

/**
 * Which targets hold for which stage: daily deployments are asked of the stages before production
 * (staging), lead time of production (the time to reach users); the rest of every stage. Approval
 * wait is reported, never judged.
 */
export function targetFor(name: FigureName, production: boolean): Target | null {
  if (name === 'approvalWait') return null;
  if (name === 'deploymentFrequency' && production) return null;
  if (name === 'leadTime' && !production) return null;
  return TARGETS[name];
}

const DAY = 86_400;
const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

function judge(value: number | null, target: Target | null): FigureStatus {
  if (value === null) return 'no-data';
  if (!target) return 'no-target';
  const met =
    target.comparison === 'at-least'
      ? value >= target.value
      : target.comparison === 'below'
        ? value < target.value
        : value > target.value;
  return met ? 'met' : 'missed';
}

function figure(
  name: FigureName,
  production: boolean,
  unit: FigureUnit,
  value: number | null,
  runs: number,
  detail: string,
): Figure {
  const target = targetFor(name, production);
  return { value, unit, target, status: judge(value, target), runs, detail };
}

/** The median: the middle value, or the mean of the two middle ones. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What one run did in one stage, read from its milestones. */
export interface StageRun {
  readonly run: RunRecord;
  readonly committed?: RunMilestone;
  readonly healthy?: RunMilestone;
  readonly degraded?: RunMilestone;
  readonly timedOut?: RunMilestone;
  readonly rollingBack?: RunMilestone;
  readonly rolledBack?: RunMilestone;
  readonly failed?: RunMilestone;
  readonly superseded?: RunMilestone;
  readonly approvalRequested?: RunMilestone;
  readonly decided?: RunMilestone;
}

/**
 * A stageless `failed` (the run's shared `Notify failed`) belongs to the last stage the run committed
 * to when that stage never got healthy: the change failed there. Before any commit nothing changed.
 */
function stageOfStagelessFailure(milestones: readonly RunMilestone[]): string | undefined {
  const committed = milestones.filter((m) => m.event === 'committed' && m.stage);
  const last = committed.at(-1)?.stage;
  if (!last) return undefined;
  const healthy = milestones.some((m) => m.event === 'healthy' && m.stage === last);
  return healthy ? undefined : last;
}

export function stageRunOf(run: RunRecord, stage: string): StageRun {
  const milestones = distinctMilestones(run.milestones);
  const stagelessFailureStage = stageOfStagelessFailure(milestones);
  const find = (event: RunMilestone['event']) =>
    milestones.find(
      (m) =>
        m.event === event &&
        (m.stage === stage ||
          (m.stage === undefined && event === 'failed' && stagelessFailureStage === stage)),
    );
  const decided = find('approved') ?? find('rejected') ?? find('expired');
  const entries = {
    committed: find('committed'),
    healthy: find('healthy'),
    degraded: find('degraded'),
    timedOut: find('timed-out'),
    rollingBack: find('rolling-back'),
    rolledBack: find('rolled-back'),
    failed: find('failed'),
    superseded: find('superseded'),
    approvalRequested: find('approval-requested'),
    decided,
  };
  return {
    run,
    ...Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)),
  };
}

/** A promotion that wrote a new entry to the stage. */
export const isChange = (s: StageRun) =>
  s.run.kind === 'promotion' && s.committed !== undefined && s.committed.changed !== false;

/** When a failure of the change was first seen, if it failed. */
export function failureSeenAt(s: StageRun): string | undefined {
  if (!isChange(s)) return undefined;
  const candidates = [s.degraded, s.rollingBack, s.timedOut, s.rolledBack, s.failed].filter(
    (m): m is RunMilestone => m !== undefined,
  );
  return candidates.map((m) => m.at).sort()[0];
}

/** When the stage, failed by this run at `from`, was Healthy again: the rollback's landing or another run's healthy verdict. */
function restoredAt(failed: StageRun, later: readonly StageRun[], from: string): string | undefined {
  const times = [failed.rolledBack?.at, ...later.map((s) => s.healthy?.at ?? s.rolledBack?.at)].filter(
    (at): at is string => at !== undefined && at >= from,
  );
  return times.sort()[0];
}

const inWindow = (at: string | undefined, since: string, until: string): at is string =>
  at !== undefined && at >= since && at < until;

/**
 * The window's days: 24-hour spans counted back from `until`, the first one starting at `since`
 * (shorter when the window is not whole days). A millisecond's rounding never adds a day.
 */
export function windowDays(since: string, until: string): Array<{ start: string; end: string }> {
  const from = Date.parse(since);
  const to = Date.parse(until);
  const count = Math.max(1, Math.ceil((to - from) / 1000 / DAY - 1e-9));
  return Array.from({ length: count }, (_, i) => {
    const end = to - (count - 1 - i) * DAY * 1000;
    const start = Math.max(from, end - DAY * 1000);
    return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  });
}

/** Deployments, changes and failed changes per day of the window (a change counts on the day it was committed). */
function dailyCounts(
  deployments: readonly StageRun[],
  changes: readonly StageRun[],
  since: string,
  until: string,
): DayCount[] {
  return windowDays(since, until).map(({ start, end }) => {
    const committed = changes.filter((s) => inWindow(s.committed?.at, start, end));
    return {
      start,
      end,
      deployments: deployments.filter((s) => inWindow(s.healthy?.at, start, end)).length,
      changes: committed.length,
      failures: committed.filter((s) => failureSeenAt(s) !== undefined).length,
    };
  });
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(ratio === 0 || ratio === 1 ? 0 : 1)}%`;

/** The figures of one app in one stage. */
export function stageFigures(
  app: string,
  stage: string,
  production: boolean,
  records: readonly RunRecord[],
  window: { since: string; until: string; days: number },
): StageFigures {
  const { since, until, days } = window;
  const runs = records.filter((run) => run.app === app).map((run) => stageRunOf(run, stage));

  // Deployments and lead time.
  const deployments = runs.filter((s) => isChange(s) && inWindow(s.healthy?.at, since, until));
  const perDay = deployments.length / days;
  const leadTimes = deployments.map((s) => {
    const built = s.run.build?.createdAt;
    const from = built && Date.parse(built) <= Date.parse(s.healthy!.at) ? built : s.run.pushedAt;
    return { seconds: seconds(from, s.healthy!.at), fromBuild: from === built };
  });
  const fromBuild = leadTimes.filter((l) => l.fromBuild).length;
  const leadTime = median(leadTimes.map((l) => l.seconds));

  // Change failure rate: changes committed in the window, failed ones among them.
  const changes = runs.filter((s) => isChange(s) && inWindow(s.committed?.at, since, until));
  const failures = changes.filter((s) => failureSeenAt(s) !== undefined);
  const cfr = changes.length === 0 ? null : failures.length / changes.length;

  // Time to restore: every failure (whenever it began) restored in the window; open ones apart.
  const restores: number[] = [];
  let restoredRuns = 0;
  let open = 0;
  for (const s of runs) {
    const seen = failureSeenAt(s);
    if (!seen || seen >= until) continue;
    const back = restoredAt(
      s,
      runs.filter((other) => other !== s),
      seen,
    );
    if (back && inWindow(back, since, until)) {
      restores.push(seconds(seen, back));
      restoredRuns += 1;
    } else if (!back || back >= until) {
      open += 1;
    }
  }
  const mttr = median(restores);

  // Sync outcomes: every Argo CD verdict in the stage, ours and our rollbacks'.
  let syncOk = 0;
  let syncBad = 0;
  const syncRuns = new Set<string>();
  for (const s of runs) {
    const verdicts: Array<[RunMilestone | undefined, boolean]> = [
      [s.healthy, true],
      [s.degraded ?? s.rollingBack ?? s.timedOut, false],
      [s.rolledBack, true],
    ];
    for (const [milestone, ok] of verdicts) {
      if (!inWindow(milestone?.at, since, until)) continue;
      if (ok) syncOk += 1;
      else syncBad += 1;
      syncRuns.add(s.run.execution);
    }
  }
  const syncTotal = syncOk + syncBad;

  // Rollbacks: automatic ones start with rolling-back; a manual one is its own run.
  let rollbacksOk = 0;
  let rollbacksEnded = 0;
  for (const s of runs) {
    if (s.rollingBack && inWindow(s.rollingBack.at, since, until)) {
      if (s.rolledBack) rollbacksOk += 1;
      if (s.rolledBack || s.run.outcome === 'failed') rollbacksEnded += 1;
    }
    if (
      s.run.kind === 'manual-rollback' &&
      s.run.rollbackStage === stage &&
      inWindow(s.run.endedAt, since, until)
    ) {
      if (s.healthy) rollbacksOk += 1;
      if (s.healthy || s.run.outcome === 'failed') rollbacksEnded += 1;
    }
  }
  const rollbackRate = rollbacksEnded === 0 ? null : rollbacksOk / rollbacksEnded;

  // Approval wait.
  const waits = runs.filter((s) => s.approvalRequested && inWindow(s.decided?.at, since, until));
  const wait = median(waits.map((s) => seconds(s.approvalRequested!.at, s.decided!.at)));

  return {
    app,
    stage,
    production,
    deploymentFrequency: figure(
      'deploymentFrequency',
      production,
      'per-day',
      perDay,
      deployments.length,
      `${deployments.length} deployment${deployments.length === 1 ? '' : 's'} in ${days} day${days === 1 ? '' : 's'}`,
    ),
    leadTime: {
      ...figure(
        'leadTime',
        production,
        'seconds',
        leadTime,
        deployments.length,
        deployments.length === 0
          ? 'no deployments'
          : `median of ${deployments.length}: ${fromBuild} from the image build, ${deployments.length - fromBuild} from the push`,
      ),
      from: { build: fromBuild, push: deployments.length - fromBuild },
    },
    changeFailureRate: figure(
      'changeFailureRate',
      production,
      'ratio',
      cfr,
      changes.length,
      `${failures.length} of ${changes.length} change${changes.length === 1 ? '' : 's'} failed`,
    ),
    timeToRestore: {
      ...figure(
        'timeToRestore',
        production,
        'seconds',
        mttr,
        restoredRuns,
        `median of ${restores.length} restored${open > 0 ? `, ${open} still degraded` : ''}`,
      ),
      open,
    },
    syncSuccessRate: figure(
      'syncSuccessRate',
      production,
      'ratio',
      syncTotal === 0 ? null : syncOk / syncTotal,
      syncRuns.size,
      `${syncOk} of ${syncTotal} sync${syncTotal === 1 ? '' : 's'} healthy${syncTotal > 0 ? ` (${percent(syncOk / syncTotal)})` : ''}`,
    ),
    rollbackSuccessRate: figure(
      'rollbackSuccessRate',
      production,
      'ratio',
      rollbackRate,
      rollbacksEnded,
      `${rollbacksOk} of ${rollbacksEnded} rollback${rollbacksEnded === 1 ? '' : 's'} healthy`,
    ),
    approvalWait: figure(
      'approvalWait',
      production,
      'seconds',
      wait,
      waits.length,
      waits.length === 0 ? 'no approvals decided' : `median of ${waits.length} decided`,
    ),
    daily: dailyCounts(deployments, changes, since, until),
  };
}

/**
 * The report: one entry per app (every app with records, or `window.app`) and stage (the configured
 * ones, or `window.stage`). Records may reach back before the window: they only serve as the start of
 * an incident restored inside it.
 */
export function deliveryReport(records: readonly RunRecord[], window: MetricsWindow): DeliveryReport {
  const since = window.since.toISOString();
  const until = window.until.toISOString();
  if (!(window.until.getTime() > window.since.getTime())) {
    throw new RangeError(`the window must end after it starts (${since} … ${until})`);
  }
  const days = (window.until.getTime() - window.since.getTime()) / 1000 / DAY;
  const production = window.stages.at(-1);
  const apps = window.app ? [window.app] : (window.apps ?? [...new Set(records.map((r) => r.app))].sort());
  const stages = window.stage ? [window.stage] : window.stages;
  const figures = apps.flatMap((app) =>
    stages.map((stage) => stageFigures(app, stage, stage === production, records, { since, until, days })),
  );
  return { since, until, days, figures };
}

/**
 * The metrics a run adds as it ends (EMF, namespace `Shiplane`, dimensions app and stage). The
 * stack's dashboard and alarm name them from this list, so they chart exactly what is emitted.
 */
export const DELIVERY_METRIC_NAMES = [
  'Changes',
  'Deployments',
  'LeadTime',
  'ChangeFailures',
  'TimeToRestore',
  'ApprovalWait',
  'SyncSucceeded',
  'SyncFailed',
  'Rollbacks',
  'RollbacksSucceeded',
] as const;
export type DeliveryMetricName = (typeof DELIVERY_METRIC_NAMES)[number];

export interface DeliveryPoint {
  readonly name: DeliveryMetricName;
  readonly unit: 'Count' | 'Seconds';
  readonly value: number;
  readonly app: string;
  readonly stage: string;
}

/**
 * What a sealed run adds to each stage it touched, by the report's definitions. A restore by a later
 * release is not here (it belongs to no single run's end): `shiplane metrics` counts it.
 */
export function runMetricPoints(run: RunRecord, stages: readonly string[]): DeliveryPoint[] {
  const points: DeliveryPoint[] = [];
  for (const stage of stages) {
    const s = stageRunOf(run, stage);
    const add = (name: DeliveryMetricName, value: number, unit: DeliveryPoint['unit'] = 'Count') =>
      points.push({ name, unit, value, app: run.app, stage });
    if (isChange(s)) {
      add('Changes', 1);
      const failed = failureSeenAt(s);
      if (failed) add('ChangeFailures', 1);
      if (s.healthy) {
        add('Deployments', 1);
        const built = run.build?.createdAt;
        const from = built && built <= s.healthy.at ? built : run.pushedAt;
        add('LeadTime', seconds(from, s.healthy.at), 'Seconds');
      }
      if (failed && s.rolledBack) add('TimeToRestore', seconds(failed, s.rolledBack.at), 'Seconds');
    }
    if (s.healthy) add('SyncSucceeded', 1);
    if (s.degraded ?? s.rollingBack ?? s.timedOut) add('SyncFailed', 1);
    if (s.rolledBack) add('SyncSucceeded', 1);
    const manual = run.kind === 'manual-rollback' && run.rollbackStage === stage;
    if (s.rollingBack || manual) {
      add('Rollbacks', 1);
      if (s.rolledBack || (manual && s.healthy)) add('RollbacksSucceeded', 1);
    }
    if (s.approvalRequested && s.decided) {
      add('ApprovalWait', seconds(s.approvalRequested.at, s.decided.at), 'Seconds');
    }
  }
  return points;
}
