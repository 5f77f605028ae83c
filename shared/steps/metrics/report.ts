/**
 * The delivery report of a window, read from the run records: what `shiplane metrics` prints, for a
 * deployed stack and (through the sandbox's `GET /api/metrics`) a sandbox alike. Records are read
 * from one window's length before the window too, so an incident that began before it and was
 * restored inside it is counted whole.
 */
import { RUN_RECORD_RETENTION_SECONDS } from '../../contracts/run-records-table.js';
import type { DeliveryReport } from '../../domain/delivery-metrics.js';
import { deliveryReport } from '../../domain/delivery-metrics.js';
import { TerminalError } from '../../errors.js';
import type { RunRecordStore } from '../../ports/run-records.js';

export class MetricsQueryError extends TerminalError {
  override name = 'MetricsQueryError';
}

export interface MetricsQuery {
  /** The window's length in seconds, ending `now`. */
  readonly sinceSeconds: number;
  readonly app?: string;
  readonly stage?: string;
}

/**
 * Why a window is refused, or undefined: a window longer than the records are kept would count runs
 * that are gone (and one long enough has no start date at all), so its figures would be wrong.
 */
export function windowRefusal(sinceSeconds: number): string | undefined {
  if (!(sinceSeconds > 0)) return 'the window must be longer than 0 seconds';
  const days = RUN_RECORD_RETENTION_SECONDS / 86_400;
  if (sinceSeconds > RUN_RECORD_RETENTION_SECONDS) {
    return `the window is longer than the ${days}d the run records are kept; ask for ${days}d or less`;
  }
  return undefined;
}

export interface MetricsSetting {
  readonly runs: RunRecordStore;
  /** The configured apps and stages (in order; the last stage is production). */
  readonly apps: readonly string[];
  readonly stages: readonly string[];
  readonly now: () => Date;
}

export async function metricsReport(query: MetricsQuery, setting: MetricsSetting): Promise<DeliveryReport> {
  if (query.app !== undefined && !setting.apps.includes(query.app)) {
    throw new MetricsQueryError(`unknown app ${query.app}; the config has ${setting.apps.join(', ')}`);
  }
  if (query.stage !== undefined && !setting.stages.includes(query.stage)) {
    throw new MetricsQueryError(`unknown stage ${query.stage}; the config has ${setting.stages.join(', ')}`);
  }
  const refusal = windowRefusal(query.sinceSeconds);
  if (refusal) throw new MetricsQueryError(refusal);
  const until = setting.now();
  const since = new Date(until.getTime() - query.sinceSeconds * 1000);
  const lookback = new Date(since.getTime() - query.sinceSeconds * 1000);
  const apps = query.app ? [query.app] : setting.apps;
  const records = (await Promise.all(apps.map((app) => setting.runs.ended(app, lookback, until)))).flat();
  return deliveryReport(records, {
    since,
    until,
    stages: setting.stages,
    apps: setting.apps,
    ...(query.app ? { app: query.app } : {}),
    ...(query.stage ? { stage: query.stage } : {}),
  });
}
