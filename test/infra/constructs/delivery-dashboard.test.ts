import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createShiplaneApp } from '../../../infra/synth.js';
import { DELIVERY_METRIC_NAMES } from '../../../shared/domain/delivery-metrics.js';
import { powertoolsDeliveryMetrics } from '../../../shared/observability/delivery-metrics.js';
import { configWith, exampleConfig, FAKE, type Json } from '../support.js';

/** The dashboard body with the region filled in, as CloudWatch receives it. */
function dashboardBody(template: Json): Json {
  const dashboards = Object.values(template.Resources as Record<string, Json>).filter(
    (r) => r.Type === 'AWS::CloudWatch::Dashboard',
  );
  expect(dashboards).toHaveLength(1);
  const [, parts] = dashboards[0].Properties.DashboardBody['Fn::Join'] as [string, Json[]];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if (part.Ref === 'AWS::Region') return FAKE.region;
      throw new Error(`unexpected intrinsic ${JSON.stringify(part)} in the dashboard body`);
    })
    .join('');
  return JSON.parse(text);
}

/** A metric's identity in CloudWatch: namespace, name and the full set of dimensions. */
const identity = (namespace: string, name: string, dimensions: Record<string, string>) =>
  `${namespace} ${name} ${Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(',')}`;

/** The metrics a graph widget names (its `[namespace, name, key, value, …, options]` rows). */
function graphedMetrics(widget: Json): string[] {
  return (widget.properties.metrics as Json[][])
    .filter((row) => typeof row[0] === 'string')
    .map((row) => {
      const [namespace, name, ...rest] = row as [string, string, ...Json[]];
      const pairs = rest.filter((part) => typeof part === 'string') as string[];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
      return identity(namespace, name, dimensions);
    });
}

const alarmConfig = configWith((input) => ({
  ...input,
  metrics: { changeFailureAlarm: 'on', changeFailureAlarmMinChanges: 8 },
}));

/** The example config with the alarm on, synthesized once with the cdk-nag packs registered. */
let alarmStack: { stack: Stack; template: Json } | undefined;
function withAlarm(): { stack: Stack; template: Json } {
  if (!alarmStack) {
    const { stack } = createShiplaneApp(alarmConfig, { nag: true });
    alarmStack = { stack, template: Template.fromStack(stack).toJSON() };
  }
  return alarmStack;
}

describe('the delivery dashboard of the example config', () => {
  let template: Json;
  let widgets: Json[];
  const graph = (title: string) => {
    const found = widgets.find((w) => w.type === 'metric' && w.properties.title === title);
    if (!found) throw new Error(`no graph ${title}`);
    return found;
  };

  beforeAll(() => {
    const { stack } = createShiplaneApp(exampleConfig);
    template = Template.fromStack(stack).toJSON();
    widgets = dashboardBody(template).widgets;
  });

  it('has a row per figure: its heading, then a graph per app and stage, staging and production apart', () => {
    const headings = widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown);
    expect(headings).toEqual([
      '### Deployment frequency — target: staging ≥ 1 a day',
      '### Lead time (median) — target: production < 2h',
      '### Change failure rate — target: staging < 5%, production < 5%',
      '### Time to restore (median) — target: staging < 30m, production < 30m',
      '### Argo CD sync success — target: staging > 99%, production > 99%',
      '### Rollback success — target: staging > 95%, production > 95%',
    ]);
    const graphs = widgets.filter((w) => w.type === 'metric');
    expect(graphs).toHaveLength(6 * 2 * 2);
    const titles = graphs.map((w) => w.properties.title as string);
    expect(titles.slice(0, 4)).toEqual([
      'Deployment frequency · backend · staging',
      'Deployment frequency · backend · production',
      'Deployment frequency · frontend · staging',
      'Deployment frequency · frontend · production',
    ]);
    // Each heading sits on its own line, its four graphs side by side on the next.
    const headingsY = widgets.filter((w) => w.type === 'text').map((w) => w.y);
    headingsY.forEach((y, row) => {
      const inRow = graphs.slice(row * 4, row * 4 + 4);
      expect(inRow.map((w) => [w.x, w.y, w.width])).toEqual([
        [0, y + 1, 6],
        [6, y + 1, 6],
        [12, y + 1, 6],
        [18, y + 1, 6],
      ]);
    });
  });

  it('draws the targets as horizontal lines, in each graph’s unit, only where the stage is held to one', () => {
    const lines = (title: string) => graph(title).properties.annotations?.horizontal ?? [];
    const target = (value: number, text: string) => [
      { value, label: `target ${text}`, color: '#d62728', yAxis: 'left' },
    ];
    expect(lines('Deployment frequency · backend · staging')).toEqual(target(1, '≥ 1 a day'));
    expect(lines('Deployment frequency · backend · production')).toEqual([]);
    expect(lines('Lead time (median) · frontend · production')).toEqual(target(2, '< 2h'));
    expect(lines('Lead time (median) · frontend · staging')).toEqual([]);
    for (const stage of ['staging', 'production']) {
      expect(lines(`Change failure rate · backend · ${stage}`)).toEqual(target(5, '< 5%'));
      expect(lines(`Time to restore (median) · backend · ${stage}`)).toEqual(target(30, '< 30m'));
      expect(lines(`Argo CD sync success · backend · ${stage}`)).toEqual(target(99, '> 99%'));
      expect(lines(`Rollback success · backend · ${stage}`)).toEqual(target(95, '> 95%'));
    }
    expect(graph('Lead time (median) · frontend · production').properties.yAxis.left.label).toBe('hours');
    expect(graph('Time to restore (median) · frontend · staging').properties.yAxis.left.label).toBe(
      'minutes',
    );
    expect(graph('Change failure rate · frontend · staging').properties.yAxis.left).toMatchObject({
      min: 0,
      max: 100,
    });
  });

  it('computes the rates with metric math over the counts notify emits', () => {
    const expressions = (title: string) =>
      (graph(title).properties.metrics as Json[][])
        .filter((row) => typeof row[0] === 'object')
        .map((row) => row[0].expression);
    const ids = (title: string) =>
      (graph(title).properties.metrics as Json[][])
        .filter((row) => typeof row[0] === 'string')
        .map((row) => [row[1], row.at(-1).id, row.at(-1).stat, row.at(-1).visible]);

    expect(expressions('Change failure rate · backend · production')).toEqual([
      'IF(changes >= 1, 100 * FILL(failures, 0) / changes, 0)',
    ]);
    expect(ids('Change failure rate · backend · production')).toEqual([
      ['Changes', 'changes', 'Sum', false],
      ['ChangeFailures', 'failures', 'Sum', false],
    ]);
    expect(expressions('Argo CD sync success · backend · staging')).toEqual([
      'IF((FILL(ok, 0) + FILL(other, 0)) > 0, 100 * FILL(ok, 0) / (FILL(ok, 0) + FILL(other, 0)))',
    ]);
    expect(ids('Argo CD sync success · backend · staging')).toEqual([
      ['SyncSucceeded', 'ok', 'Sum', false],
      ['SyncFailed', 'other', 'Sum', false],
    ]);
    expect(expressions('Rollback success · frontend · production')).toEqual([
      'IF(FILL(other, 0) > 0, 100 * FILL(ok, 0) / FILL(other, 0))',
    ]);
    expect(ids('Rollback success · frontend · production')).toEqual([
      ['RollbacksSucceeded', 'ok', 'Sum', false],
      ['Rollbacks', 'other', 'Sum', false],
    ]);
    // Durations are medians, like `shiplane metrics`, shown in hours and minutes.
    expect(expressions('Lead time (median) · backend · production')).toEqual(['lead / 3600']);
    expect(ids('Lead time (median) · backend · production')).toEqual([['LeadTime', 'lead', 'p50', false]]);
    expect(expressions('Time to restore (median) · backend · production')).toEqual(['restore / 60']);
    expect(ids('Time to restore (median) · backend · production')).toEqual([
      ['TimeToRestore', 'restore', 'p50', false],
    ]);
  });

  it('has no change failure alarm unless metrics.changeFailureAlarm is on', () => {
    const alarms = Object.values(template.Resources as Record<string, Json>).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm',
    );
    expect(alarms.filter((a) => a.Properties.Metrics)).toEqual([]);
  });
});

describe('the dashboard and the alarm against what notify emits', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('name exactly the metrics, namespace and dimensions of notify’s EMF in the deployed stack', () => {
    const { template } = withAlarm();
    const notify = Object.values(template.Resources as Record<string, Json>).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['shiplane:handler'] === 'notify',
    );
    const env = notify.Properties.Environment.Variables;

    // Every point notify can emit, through the real emitter, set up as the deployed function is.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const metrics = new Metrics({
      namespace: env.POWERTOOLS_METRICS_NAMESPACE,
      serviceName: env.POWERTOOLS_SERVICE_NAME,
    });
    powertoolsDeliveryMetrics(metrics)(
      Object.keys(alarmConfig.apps).flatMap((app) =>
        alarmConfig.stages.flatMap(({ name: stage }) =>
          DELIVERY_METRIC_NAMES.map((name) => ({ name, unit: 'Count' as const, value: 1, app, stage })),
        ),
      ),
    );
    const emitted = new Set<string>(
      lines.flatMap((line) => {
        const emf = JSON.parse(line) as Json;
        return emf._aws.CloudWatchMetrics.flatMap((directive: Json) =>
          directive.Dimensions.flatMap((set: string[]) =>
            directive.Metrics.map((metric: Json) =>
              identity(
                directive.Namespace,
                metric.Name,
                Object.fromEntries(set.map((key) => [key, emf[key] as string])),
              ),
            ),
          ),
        );
      }),
    );

    const charted: string[] = dashboardBody(template)
      .widgets.filter((w: Json) => w.type === 'metric')
      .flatMap(graphedMetrics);
    const alarmed = Object.values(template.Resources as Record<string, Json>)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Metrics)
      .flatMap((r) => r.Properties.Metrics)
      .filter((m: Json) => m.MetricStat)
      .map(({ MetricStat: { Metric: m } }: Json) =>
        identity(
          m.Namespace,
          m.MetricName,
          Object.fromEntries(m.Dimensions.map((d: Json) => [d.Name, d.Value])),
        ),
      );

    expect(charted.length).toBeGreaterThan(0);
    expect(alarmed.length).toBeGreaterThan(0);
    expect([...new Set([...charted, ...alarmed])].filter((m) => !emitted.has(m))).toEqual([]);
    // And the dashboard reads every count the figures are made of, in every app and stage.
    const chartedNames = new Set(charted.map((m) => m.split(' ')[1]));
    expect([...chartedNames].sort()).toEqual(
      DELIVERY_METRIC_NAMES.filter((name) => name !== 'ApprovalWait').sort(),
    );
    expect(charted.some((m) => m.includes('service=shiplane-notify'))).toBe(true);
  });
});

describe('the change failure alarm (metrics.changeFailureAlarm: on)', () => {
  let stack: Stack;
  let alarms: Json[];

  beforeAll(() => {
    const synthesized = withAlarm();
    stack = synthesized.stack;
    alarms = Object.values(synthesized.template.Resources as Record<string, Json>)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Metrics)
      .map((r) => r.Properties);
  });

  it('watches each app’s production change failure rate over 7 days, above the 5 % target, on the alert topic', () => {
    expect(alarms.map((a) => a.AlarmDescription).sort()).toEqual([
      'Shiplane: The change failure rate of backend in production over 7 days is above 5%',
      'Shiplane: The change failure rate of frontend in production over 7 days is above 5%',
    ]);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: expect.stringMatching(/^alertingtopic/) }],
      });
    }
  });

  it('divides failed changes by changes with metric math, reading 0 in weeks with fewer changes than the minimum', () => {
    const [alarm] = alarms.filter((a) => a.AlarmDescription.includes('backend'));
    expect(alarm.Metrics).toEqual([
      expect.objectContaining({
        Expression: 'IF(changes >= 8, 100 * FILL(failures, 0) / changes, 0)',
        ReturnData: true,
      }),
      ...[
        ['changes', 'Changes'],
        ['failures', 'ChangeFailures'],
      ].map(([Id, MetricName]) => ({
        Id,
        ReturnData: false,
        MetricStat: {
          Metric: {
            Namespace: 'Shiplane',
            MetricName,
            Dimensions: [
              { Name: 'app', Value: 'backend' },
              { Name: 'service', Value: 'shiplane-notify' },
              { Name: 'stage', Value: 'production' },
            ],
          },
          Period: 7 * 86_400,
          Stat: 'Sum',
        },
      })),
    ]);
  });

  it('leaves cdk-nag nothing to report', () => {
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const report = pack.validateScope(stack);
      const findings = report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
      );
      expect(findings, pack.readPackName).toEqual([]);
    }
  });
});
