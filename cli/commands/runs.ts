/**
 * `shiplane runs [--app A] [--status S]`: the latest promotion runs, from a deployed stack (Step
 * Functions through the AWS SDK and the usual AWS environment) or from a running sandbox
 * (`--sandbox [URL]`, default: the sandbox this folder started).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_WORKDIR, SANDBOX_STATE_FILE } from '../../local/sandbox/paths.js';
import {
  asRunOutcome,
  failedRunOutcome,
  RUN_OUTCOMES,
  runOutcomeSchema,
} from '../../shared/contracts/tasks.js';
import { appNamePrefix } from '../../shared/domain/execution-name.js';
import { formatElapsed, manualRollbackOf } from '../../shared/domain/execution-timeline.js';
import { TerminalError } from '../../shared/errors.js';
import type { ExecutionDescription, ExecutionReader } from '../../shared/ports/executions.js';
import { reportFailure } from '../failures.js';
import { type Io, processIo } from '../io.js';

export interface SourceOptions {
  /** A sandbox URL, or `true` for the sandbox started in this folder. */
  readonly sandbox?: string | boolean;
  readonly stateMachine?: string;
  readonly region?: string;
}

export interface SourceDeps {
  /** An SFN client of your own (tests pass one behind aws-sdk-client-mock). */
  readonly sfn?: SFNClient;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * The sandbox `--sandbox` names: its URL when given one, else the sandbox started from `cwd` (see
 * runningSandboxUrl).
 */
export async function sandboxUrl(sandbox: string | true, deps: Pick<SourceDeps, 'cwd'>): Promise<string> {
  return typeof sandbox === 'string' ? sandbox : runningSandboxUrl(deps.cwd ?? process.cwd());
}

/** The URL of the sandbox started from `cwd`, read from the state file it writes while it runs. */
export async function runningSandboxUrl(cwd: string): Promise<string> {
  const file = join(cwd, DEFAULT_WORKDIR, SANDBOX_STATE_FILE);
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as { url?: unknown };
    if (typeof state.url === 'string') return state.url;
  } catch {
    // fall through to the message below
  }
  throw new TerminalError(
    `no running sandbox found (${file}); start one with \`npm start\` or pass --sandbox URL`,
  );
}

/** Opens the reader the options ask for: a sandbox, or the promotion state machine in AWS. */
export async function openReader(options: SourceOptions, deps: SourceDeps = {}): Promise<ExecutionReader> {
  if (options.sandbox) {
    const url = await sandboxUrl(options.sandbox, deps);
    const { sandboxExecutions } = await import('../../local/sandbox/api-client.js');
    return sandboxExecutions(url);
  }
  const { sfn, arn } = await openStateMachine(options, deps);
  const { stepFunctionsExecutions } = await import('../../shared/adapters/aws/executions.js');
  return stepFunctionsExecutions(sfn, arn);
}

/** The SFN client and the promotion state machine the options name (or the one found by name). */
export async function openStateMachine(
  options: SourceOptions,
  deps: SourceDeps = {},
): Promise<{ sfn: SFNClient; arn: string }> {
  // Loaded here, not at the top: every command module loads on every run of the CLI.
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const { findStateMachine } = await import('../../shared/adapters/aws/executions.js');
  const env = deps.env ?? process.env;
  const sfn = deps.sfn ?? new SFNClient(options.region ? { region: options.region } : {});
  const arn = options.stateMachine ?? env.SHIPLANE_STATE_MACHINE_ARN ?? (await findStateMachine(sfn));
  return { sfn, arn };
}

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const OUTCOMES: readonly string[] = runOutcomeSchema.options;

/** `--status` takes a Step Functions status or a run outcome; this says which and what to ask SFN. */
export function parseStatusFilter(text: string): { sfnStatus?: string; outcome?: string } {
  const lower = text.toLowerCase();
  const outcome = asRunOutcome(lower);
  if (outcome) return { sfnStatus: RUN_OUTCOMES[outcome].ends, outcome };
  const upper = text.toUpperCase().replace(/-/g, '_');
  if (STATUSES.includes(upper)) return { sfnStatus: upper };
  throw new InvalidArgumentError(
    `unknown status "${text}"; use an outcome (${OUTCOMES.join(', ')}) or a status (${STATUSES.join(', ')})`,
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The release and outcome a description carries (input `release`, output `outcome`). */
export function describeRelease(description: ExecutionDescription): {
  app: string | undefined;
  tag: string | undefined;
  outcome: string | undefined;
  /** The stage a manual rollback run puts back on `tag`. */
  rollback?: string;
} {
  const release =
    isObject(description.input) && isObject(description.input.release) ? description.input.release : {};
  const outcome = isObject(description.output) ? description.output.outcome : undefined;
  const rollback = isObject(description.input) ? manualRollbackOf(description.input) : undefined;
  return {
    app: typeof release.app === 'string' ? release.app : undefined,
    tag: typeof release.tag === 'string' ? release.tag : undefined,
    ...(rollback ? { rollback: rollback.stage } : {}),
    outcome:
      typeof outcome === 'string'
        ? outcome
        : ['FAILED', 'TIMED_OUT', 'ABORTED'].includes(description.status)
          ? failedRunOutcome(description.error)
          : undefined,
  };
}

export interface RunsOptions extends SourceOptions {
  readonly app?: string;
  readonly status?: string;
  readonly limit?: number;
  readonly json?: boolean;
}

export interface RunRow {
  readonly execution: string;
  readonly app: string | undefined;
  readonly tag: string | undefined;
  /** Set for a manual rollback run: the stage it puts back on `tag`. */
  readonly rollback?: string;
  readonly status: string;
  readonly outcome: string | undefined;
  readonly startDate: string | undefined;
  readonly stopDate: string | undefined;
}

const stamp = (date: Date | undefined) =>
  date
    ? date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '-';

/** Lists runs; returns the exit code (0 listed, 1 the source failed, 2 bad options, 3-7 AWS: cli/failures.ts). */
export async function listRuns(
  options: RunsOptions,
  io: Io = processIo,
  deps: SourceDeps = {},
): Promise<number> {
  let filter: ReturnType<typeof parseStatusFilter> = {};
  try {
    if (options.status) filter = parseStatusFilter(options.status);
  } catch (error) {
    io.err(`shiplane runs: ${(error as Error).message}`);
    return 2;
  }
  try {
    const reader = await openReader(options, deps);
    const limit = options.limit ?? 20;
    const rows: RunRow[] = [];
    const seen = new Set<string>();
    // The app and outcome are read from each run's input and output: a name only narrows the list
    // (`my-app`'s runs begin `my-` too). Ask for more than we print, and for more again while the
    // filters keep too few, so many runs of a similar app cannot hide the ones asked for.
    const filtered = Boolean(filter.outcome || options.app);
    for (let max = filtered ? limit * 5 : limit; ; max *= 4) {
      const items = await reader.list({
        ...(filter.sfnStatus ? { status: filter.sfnStatus } : {}),
        ...(options.app ? { namePrefix: appNamePrefix(options.app) } : {}),
        max,
      });
      for (const item of items) {
        if (rows.length >= limit) break;
        if (seen.has(item.arn)) continue;
        seen.add(item.arn);
        const release = describeRelease(await reader.describe(item.arn));
        if (options.app && release.app !== options.app) continue;
        if (filter.outcome && release.outcome !== filter.outcome) continue;
        rows.push({
          execution: item.name,
          app: release.app,
          tag: release.tag,
          ...(release.rollback ? { rollback: release.rollback } : {}),
          status: item.status,
          outcome: release.outcome,
          startDate: item.startDate?.toISOString(),
          stopDate: item.stopDate?.toISOString(),
        });
      }
      if (rows.length >= limit || items.length < max) break;
    }
    if (options.json) {
      io.out(JSON.stringify({ runs: rows }));
      return 0;
    }
    if (rows.length === 0) {
      io.out('no runs');
      return 0;
    }
    const table = [
      ['EXECUTION', 'APP', 'TAG', 'STATUS', 'OUTCOME', 'STARTED', 'TOOK'],
      ...rows.map((row) => [
        row.execution,
        row.app ?? '-',
        // A manual rollback run deploys an earlier tag to one stage: say so where the tag is.
        row.rollback ? `${row.tag ?? '-'} (${row.rollback} rollback)` : (row.tag ?? '-'),
        row.status,
        row.outcome ?? '-',
        stamp(row.startDate ? new Date(row.startDate) : undefined),
        row.startDate
          ? formatElapsed((row.stopDate ? Date.parse(row.stopDate) : Date.now()) - Date.parse(row.startDate))
          : '-',
      ]),
    ];
    const widths =
      table[0]?.map((_, column) => Math.max(...table.map((line) => (line[column] ?? '').length))) ?? [];
    for (const line of table) {
      io.out(
        line
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd(),
      );
    }
    return 0;
  } catch (error) {
    return reportFailure('runs', error, io.err, { region: options.region, env: deps.env });
  }
}

/** Options every inspecting command shares. */
export function addSourceOptions(command: Command): Command {
  return command
    .option('--sandbox [url]', 'read a running sandbox (default: the one started in this folder)')
    .option(
      '--state-machine <arn>',
      'the promotion state machine (default: $SHIPLANE_STATE_MACHINE_ARN or found by name)',
    )
    .option('--region <region>', 'AWS region (default: the usual AWS environment)');
}

const positiveInt = (text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

/** Adds `runs` to the program. */
export function registerRuns(program: Command, io: Io = processIo, deps: SourceDeps = {}): void {
  addSourceOptions(
    program
      .command('runs')
      .description('list promotion runs (newest first) of a deployed stack or a running sandbox')
      .option('--app <app>', 'only runs of this app')
      .option(
        '--status <status>',
        'deployed, rejected, expired, superseded, blocked, failed, or RUNNING, SUCCEEDED, FAILED, …',
      )
      .option('--limit <n>', 'how many runs', positiveInt, 20)
      .option('--json', 'print JSON'),
  ).action(async (options: RunsOptions) => {
    process.exitCode = await listRuns(options, io, deps);
  });
}
