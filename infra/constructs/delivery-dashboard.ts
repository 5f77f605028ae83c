import { Duration, Stack } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import {
  type DeliveryMetricName,
  type FigureName,
  type Target,
  targetFor,
} from '../../shared/domain/delivery-metrics.js';
import { deliveryMetricDimensions } from '../../shared/ports/delivery-metrics.js';
import { type HandlerFunction, METRICS_NAMESPACE, powertoolsServiceName } from './handler-function.js';

/**
 * Where an app's delivery metrics in one stage are: the namespace, the dimensions notify's EMF carries
 * (its Powertools `service`, then app and stage as shared/ports/delivery-metrics.ts builds them).
 */
export interface DeliverySeries {
  readonly app: string;
  readonly stage: string;
  /** The handler that publishes the points (notify, when it seals a run's record). */
  readonly publisher: HandlerFunction;
}

/** One of the delivery metrics, as notify emits it. */
export function deliveryMetric(
  series: DeliverySeries,
  name: DeliveryMetricName,
  statistic: string,
  period: Duration,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: {
      service: powertoolsServiceName(series.publisher.handlerName),
      ...deliveryMetricDimensions(series),
    },
    statistic,
    period,
  });
}

/**
 * The change failure rate in percent over `period`: failed changes over changes. Periods with fewer
 * than `minChanges` changes read 0 (too few to make a rate; the alarm judges none of them); periods
 * with no change have no value.
 */
export function changeFailureRate(series: DeliverySeries, period: Duration, minChanges = 1): MathExpression {
  return new MathExpression({
    expression: `IF(changes >= ${minChanges}, 100 * FILL(failures, 0) / changes, 0)`,
    usingMetrics: {
      changes: deliveryMetric(series, 'Changes', 'Sum', period),
      failures: deliveryMetric(series, 'ChangeFailures', 'Sum', period),
    },
    label: `${series.app} ${series.stage} change failure rate (%)`,
    period,
  });
}

const DAY = Duration.days(1);
const PERCENT = 100;
const HOUR = 3600;
const MINUTE = 60;

/** How one figure is charted: its series and the unit its target is drawn in. */
interface KeyChart {
  readonly figure: FigureName;
  readonly title: string;
  /** The axis label. */
  readonly unit: string;
  /** A target's value in the chart's unit (targets are kept in seconds and ratios). */
  readonly scale: number;
  /** Rates stay between 0 and 100. */
  readonly percent?: boolean;
  readonly series: (of: DeliverySeries) => IMetric;
}

/**
 * Healthy ones over all, in percent, from counts of the healthy ones and of all (`total`, an
 * expression over `ok` and `other`); a day with none has no value.
 */
const successRate = (ok: Metric, other: Metric, total: string, label: string): MathExpression =>
  new MathExpression({
    expression: `IF(${total} > 0, 100 * FILL(ok, 0) / ${total})`,
    usingMetrics: { ok, other },
    label,
    period: DAY,
  });

/** A duration's daily median (p50 of seconds), in `unit` seconds (an hour, a minute); `id` names it in the math. */
const dailyMedian = (metric: Metric, id: string, unit: number, label: string): MathExpression =>
  new MathExpression({ expression: `${id} / ${unit}`, usingMetrics: { [id]: metric }, label, period: DAY });

/** The four keys, then the two operational figures Shiplane holds to a target, a row each. */
export const DASHBOARD_KEYS: readonly KeyChart[] = [
  {
    figure: 'deploymentFrequency',
    title: 'Deployment frequency',
    unit: 'deployments a day',
    scale: 1,
    series: (of) =>
      new MathExpression({
        expression: 'FILL(deployments, 0)',
        usingMetrics: { deployments: deliveryMetric(of, 'Deployments', 'Sum', DAY) },
        label: 'deployments',
        period: DAY,
      }),
  },
  {
    figure: 'leadTime',
    title: 'Lead time (median)',
    unit: 'hours',
    scale: 1 / HOUR,
    series: (of) => dailyMedian(deliveryMetric(of, 'LeadTime', 'p50', DAY), 'lead', HOUR, 'lead time (h)'),
  },
  {
    figure: 'changeFailureRate',
    title: 'Change failure rate',
    unit: '%',
    scale: PERCENT,
    percent: true,
    series: (of) => changeFailureRate(of, DAY),
  },
  {
    figure: 'timeToRestore',
    title: 'Time to restore (median)',
    unit: 'minutes',
    scale: 1 / MINUTE,
    series: (of) =>
      dailyMedian(
        deliveryMetric(of, 'TimeToRestore', 'p50', DAY),
        'restore',
        MINUTE,
        'time to restore (min)',
      ),
  },
  {
    figure: 'syncSuccessRate',
    title: 'Argo CD sync success',
    unit: '%',
    scale: PERCENT,
    percent: true,
    // Every Argo CD verdict: healthy, or degraded / timed out.
    series: (of) =>
      successRate(
        deliveryMetric(of, 'SyncSucceeded', 'Sum', DAY),
        deliveryMetric(of, 'SyncFailed', 'Sum', DAY),
        '(FILL(ok, 0) + FILL(other, 0))',
        'healthy syncs (%)',
      ),
  },
  {
    figure: 'rollbackSuccessRate',
    title: 'Rollback success',
    unit: '%',
    scale: PERCENT,
    percent: true,
    // Rollbacks counts them all, the healthy ones included.
    series: (of) =>
      successRate(
        deliveryMetric(of, 'RollbacksSucceeded', 'Sum', DAY),
        deliveryMetric(of, 'Rollbacks', 'Sum', DAY),
        'FILL(other, 0)',
        'healthy rollbacks (%)',
      ),
  },
];

/** The target as a line across the chart, in the chart's unit. */
export function targetAnnotation(target: Target, scale: number): HorizontalAnnotation {
  return {
    value: Number((target.value * scale).toPrecision(12)),
    label: `target ${target.text}`,
    color: '#d62728',
  };
}

export interface DeliveryDashboardProps {
  readonly config: Config;
  /** The handler whose EMF the figures are (notify). */
  readonly publisher: HandlerFunction;
}

/** The widest a graph gets, and the narrowest before a row wraps (the grid is 24 wide). */
const GRID = 24;
const MIN_WIDTH = 6;

/**
 * The delivery figures as a CloudWatch dashboard: one row per figure, in it one graph per app and
 * stage (the configured ones, production and staging apart), daily points over the last 30 days,
 * and the figure's target for that stage drawn as a horizontal line. The metrics are the ones notify
 * emits when a run ends; `shiplane metrics` computes the same figures from the run records.
 */
export class DeliveryDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DeliveryDashboardProps) {
    super(scope, id);
    const { config, publisher } = props;
    const apps = Object.keys(config.apps);
    const stages = config.stages.map((stage) => stage.name);
    const production = stages.at(-1);
    const width = Math.max(MIN_WIDTH, Math.floor(GRID / (apps.length * stages.length)));

    this.dashboard = new Dashboard(this, 'dashboard', {
      dashboardName: `${Stack.of(this).stackName}-delivery`,
      defaultInterval: Duration.days(30),
    });
    for (const key of DASHBOARD_KEYS) {
      const targets = [
        ...new Set(
          stages.flatMap((stage) => {
            const target = targetFor(key.figure, stage === production);
            return target ? [`${stage} ${target.text}`] : [];
          }),
        ),
      ];
      this.dashboard.addWidgets(
        new TextWidget({
          markdown: `### ${key.title}${targets.length > 0 ? ` — target: ${targets.join(', ')}` : ''}`,
          width: GRID,
          height: 1,
        }),
        ...apps.flatMap((app) =>
          stages.map((stage) => {
            const target = targetFor(key.figure, stage === production);
            return new GraphWidget({
              title: `${key.title} · ${app} · ${stage}`,
              left: [key.series({ app, stage, publisher })],
              leftYAxis: {
                label: key.unit,
                showUnits: false,
                min: 0,
                ...(key.percent ? { max: 100 } : {}),
              },
              leftAnnotations: target ? [targetAnnotation(target, key.scale)] : [],
              period: DAY,
              width,
              height: 6,
            });
          }),
        ),
      );
    }
  }
}
