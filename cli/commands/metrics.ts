/**
 * `shiplane metrics [--since 30d] [--app A] [--stage S] [--json] [--sandbox [URL]]`: the four keys
 * and the operational figures per app and stage over the window, each beside its target with
 * met/missed and the runs it counted (definitions: shared/domain/delivery-metrics.ts, README).
 * Against a deployed stack (a Query of the run records table per app) or a running sandbox
 * (`GET /api/metrics`, the same records in its local DynamoDB through the same adapter).
 *
 * The table is `--table`, else `SHIPLANE_RUN_RECORDS_TABLE`, else the one table whose name contains
 * "runrecords" (what the stack names it). The config file says which apps and stages exist.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import type { DeliveryReport, Figure, StageFigures } from '../../shared/domain/delivery-metrics.js';
import { TerminalError } from '../../shared/errors.js';
import type { MetricsQuery } from '../../shared/steps/metrics/report.js';
import { type Io, processIo } from '../io.js';
import { type StackTable, stackTableName } from '../stack-tables.js';
import { addSourceOptions, type SourceDeps, type SourceOptions, sandboxUrl as sandboxUrlOf } from './runs.js';

export interface MetricsOptions extends SourceOptions {
  readonly since: string;
  readonly app?: string;
  readonly stage?: string;
  readonly table?: string;
  readonly config?: string;
  readonly json?: boolean;
}

export interface MetricsCliDeps extends SourceDeps {
  /** A client of your own (tests pass one behind aws-sdk-client-mock). */
  readonly dynamo?: DynamoDBClient;
  readonly now?: () => Date;
}

/** `30d`, `12h`, `90m`: the window's length in seconds, or a clear error. */
export async function windowSeconds(text: string): Promise<number> {
  const { parseDuration } = await import('../../shared/config/duration.js');
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds <= 0) {
    throw new TerminalError(
      `--since ${JSON.stringify(text)} is not a duration; write it like 30d, 12h or 90m`,
    );
  }
  const { windowRefusal } = await import('../../shared/steps/metrics/report.js');
  const refusal = windowRefusal(seconds);
  if (refusal) throw new TerminalError(`--since ${JSON.stringify(text)}: ${refusal}`);
  return seconds;
}

async function configOf(file: string): Promise<Config> {
  const { loadConfig } = await import('../../shared/config/load.js');
  try {
    return await loadConfig(file);
  } catch (error) {
    throw new TerminalError(
      `run where the config is readable, or pass --config FILE: ${(error as Error).message}`,
    );
  }
}

const RUN_RECORDS_TABLE: StackTable = {
  needle: 'runrecords',
  envName: 'SHIPLANE_RUN_RECORDS_TABLE',
  stackOutput: 'RunRecordsTableName',
};

/** The run records table: `--table`, SHIPLANE_RUN_RECORDS_TABLE, or the single table named like the stack's. */
export function runRecordsTableName(
  options: Pick<MetricsOptions, 'table'>,
  dynamo: DynamoDBClient,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return stackTableName(RUN_RECORDS_TABLE, options, dynamo, env);
}

async function awsReport(
  query: MetricsQuery,
  options: MetricsOptions,
  deps: MetricsCliDeps,
): Promise<DeliveryReport> {
  const config = await configOf(options.config ?? DEFAULT_CONFIG_FILE);
  const { metricsReport, MetricsQueryError } = await import('../../shared/steps/metrics/report.js');
  const apps = Object.keys(config.apps);
  const stages = config.stages.map((stage) => stage.name);
  // An app or stage the config does not have is said before any AWS call.
  if (query.app !== undefined && !apps.includes(query.app)) {
    throw new MetricsQueryError(`unknown app ${query.app}; the config has ${apps.join(', ')}`);
  }
  if (query.stage !== undefined && !stages.includes(query.stage)) {
    throw new MetricsQueryError(`unknown stage ${query.stage}; the config has ${stages.join(', ')}`);
  }
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { dynamoRunRecords } = await import('../../shared/adapters/aws/run-records-table.js');
  const dynamo = deps.dynamo ?? new DynamoDBClient(options.region ? { region: options.region } : {});
  const table = await runRecordsTableName(options, dynamo, deps.env ?? process.env);
  return metricsReport(query, {
    runs: dynamoRunRecords(dynamo, table),
    apps,
    stages,
    now: deps.now ?? (() => new Date()),
  });
}

const FIGURES: ReadonlyArray<[keyof Omit<StageFigures, 'app' | 'stage' | 'production' | 'daily'>, string]> = [
  ['deploymentFrequency', 'deployment frequency'],
  ['leadTime', 'lead time'],
  ['changeFailureRate', 'change failure rate'],
  ['timeToRestore', 'time to restore'],
  ['syncSuccessRate', 'sync success'],
  ['rollbackSuccessRate', 'rollback success'],
  ['approvalWait', 'approval wait'],
];

async function valueText(figure: Figure): Promise<string> {
  if (figure.value === null) return '—';
  if (figure.unit === 'ratio') return `${(figure.value * 100).toFixed(1).replace(/\.0$/, '')}%`;
  if (figure.unit === 'per-day') return `${figure.value.toFixed(2).replace(/\.?0+$/, '')} a day`;
  const { formatDuration } = await import('../../shared/config/duration.js');
  return formatDuration(figure.value);
}

const STATUS_TEXT = { met: 'met', missed: 'MISSED', 'no-data': 'no data', 'no-target': '' } as const;

/** The report as people read it: one block per app and stage, a line per figure. */
export async function formatReport(report: DeliveryReport): Promise<string[]> {
  const lines = [
    `${report.since.slice(0, 16)}Z → ${report.until.slice(0, 16)}Z (${+report.days.toFixed(2)} days)`,
  ];
  if (report.figures.length === 0) lines.push('no runs recorded in this window');
  for (const f of report.figures) {
    lines.push('', `${f.app} · ${f.stage}${f.production ? ' (production)' : ''}`);
    for (const [key, label] of FIGURES) {
      const figure = f[key];
      const target = figure.target ? `target ${figure.target.text}` : 'no target';
      lines.push(
        `  ${label.padEnd(22)} ${(await valueText(figure)).padEnd(12)} ${target.padEnd(16)} ${STATUS_TEXT[figure.status].padEnd(8)} ${figure.detail}`.trimEnd(),
      );
    }
  }
  return lines;
}

/** Prints the report; returns the exit code (0 printed, 1 the source failed, 2 bad arguments). */
export async function showMetrics(
  options: MetricsOptions,
  io: Io = processIo,
  deps: MetricsCliDeps = {},
): Promise<number> {
  let query: MetricsQuery;
  try {
    query = {
      sinceSeconds: await windowSeconds(options.since),
      ...(options.app !== undefined ? { app: options.app } : {}),
      ...(options.stage !== undefined ? { stage: options.stage } : {}),
    };
  } catch (error) {
    io.err(`shiplane metrics: ${(error as Error).message}`);
    return 2;
  }
  let report: DeliveryReport;
  try {
    if (options.sandbox) {
      const url = await sandboxUrlOf(options.sandbox, deps);
      const { sandboxMetrics } = await import('../../local/sandbox/api-client.js');
      report = await sandboxMetrics(url, query);
    } else {
      report = await awsReport(query, options, deps);
    }
  } catch (error) {
    io.err(`shiplane metrics: ${(error as Error).message}`);
    return (error as Error).name === 'MetricsQueryError' ? 2 : 1;
  }
  if (options.json) {
    io.out(JSON.stringify(report));
    return 0;
  }
  for (const line of await formatReport(report)) io.out(line);
  return 0;
}

/** Adds `metrics` to the program. */
export function registerMetrics(program: Command, io: Io = processIo, deps: MetricsCliDeps = {}): void {
  addSourceOptions(
    program
      .command('metrics')
      .description(
        'delivery figures (DORA four keys, sync and rollback success, approval wait) per app and stage, each beside its target',
      )
      .option('--since <duration>', 'the window, ending now: 30d, 7d, 12h', '30d')
      .option('--app <app>', 'only this app')
      .option('-s, --stage <stage>', 'only this stage')
      .option(
        '-t, --table <name>',
        'the run records table (default: $SHIPLANE_RUN_RECORDS_TABLE, or found by name)',
      )
      .option('-c, --config <file>', 'the config file, for the apps and stages', DEFAULT_CONFIG_FILE)
      .option('--json', 'print JSON'),
  ).action(async (options: MetricsOptions) => {
    process.exitCode = await showMetrics(options, io, deps);
  });
}
