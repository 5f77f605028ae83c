/**
 * `shiplane show <execution>`: one run the way the Step Functions console shows it — the state
 * timeline with times, what each stage committed and how healthy it got, and the approval
 * decision — from a deployed stack or a running sandbox.
 */
import type { Command } from 'commander';
import {
  buildTimeline,
  type ExecutionTimeline,
  formatElapsed,
  type RunSummary,
  summarizeRun,
  type TimelineStep,
} from '../../shared/domain/execution-timeline.js';
import { type NextStep, nextStep, nextStepText, runEndingOf } from '../../shared/domain/next-step.js';
import type { ExecutionDetail } from '../../shared/ports/executions.js';
import { reportFailure } from '../failures.js';
import { type Io, processIo } from '../io.js';
import { addSourceOptions, openReader, type SourceDeps, type SourceOptions } from './runs.js';

const MARK: Record<TimelineStep['status'], string> = {
  running: '…',
  succeeded: '✓',
  failed: '✗',
  caught: '!',
};

/** A timeline row: a state, or a state the Argo CD poll loop ran several times. */
export interface TimelineRow {
  readonly name: string;
  readonly status: TimelineStep['status'];
  readonly offsetMs: number;
  readonly durationMs: number | undefined;
  readonly times: number;
  readonly error: TimelineStep['error'];
}

/** Folds repeated states (the Argo CD poll loop) into their first row, counting the rounds. */
export function timelineRows(timeline: ExecutionTimeline, now = new Date()): TimelineRow[] {
  const start = timeline.startedAt?.getTime() ?? timeline.steps[0]?.enteredAt.getTime() ?? now.getTime();
  const rows: Array<TimelineRow & { firstEntered: number }> = [];
  for (const step of timeline.steps) {
    const end = step.exitedAt?.getTime();
    const existing = rows.find((row) => row.name === step.name);
    if (existing) {
      Object.assign(existing, {
        status: step.status,
        times: existing.times + 1,
        durationMs: (end ?? now.getTime()) - existing.firstEntered,
        error: step.error ?? existing.error,
      });
      continue;
    }
    rows.push({
      name: step.name,
      status: step.status,
      offsetMs: step.enteredAt.getTime() - start,
      durationMs: end === undefined ? undefined : end - step.enteredAt.getTime(),
      times: 1,
      error: step.error,
      firstEntered: step.enteredAt.getTime(),
    });
  }
  return rows.map(({ firstEntered: _, ...row }) => row);
}

const short = (sha: string | undefined) => (sha ? sha.slice(0, 7) : '-');

/** What to do after the run, when it ended without deploying (shared/domain/next-step.ts). */
export function nextStepOfRun(execution: string, timeline: ExecutionTimeline): NextStep | undefined {
  const ending = runEndingOf(execution, timeline);
  return ending ? nextStep(ending) : undefined;
}

/** Renders a run for a terminal. */
export function renderRun(detail: ExecutionDetail, now = new Date()): string[] {
  const timeline = buildTimeline(detail.events);
  const summary = summarizeRun(timeline);
  const lines: string[] = [];
  const took =
    detail.startDate && formatElapsed((detail.stopDate ?? now).getTime() - detail.startDate.getTime());
  lines.push(`${detail.name}  ${detail.status}${summary.outcome ? ` · ${summary.outcome}` : ''}`);
  if (summary.app)
    lines.push(`release   ${summary.app} ${summary.tag ?? ''}  ${summary.digest ?? ''}`.trimEnd());
  const rollback = summary.manualRollback;
  if (rollback) {
    const from = rollback.fromTag ? `${rollback.fromTag} → ` : 'to ';
    const by = rollback.by ? `, asked by ${rollback.by}` : '';
    lines.push(
      `rollback  manual rollback of ${rollback.stage}: ${from}${summary.tag ?? '?'}${by}${rollback.reason ? `: ${rollback.reason}` : ''}`,
    );
  }
  if (detail.startDate) {
    lines.push(
      `started   ${detail.startDate.toISOString()}${detail.stopDate ? `  took ${took}` : `  running for ${took}`}`,
    );
  }
  if (summary.frozen) {
    // Waiting out a change freeze: the thread's line, and the end as an instant.
    const { stage, until, notice } = summary.frozen;
    lines.push(`frozen    ${notice ?? `${stage} frozen`} (waits until ${until})`);
  }
  if (detail.error || timeline.error) {
    const error = timeline.error ?? { error: detail.error ?? 'Error', cause: detail.cause ?? '' };
    lines.push(`error     ${error.error}: ${error.cause}`);
  }
  const next = nextStepOfRun(detail.name, timeline);
  if (next) lines.push(`next      ${nextStepText(next)}`);
  lines.push('', 'Timeline');
  for (const row of timelineRows(timeline, now)) {
    const offset = `+${formatElapsed(row.offsetMs)}`.padStart(8);
    const duration = (row.durationMs === undefined ? '…' : formatElapsed(row.durationMs)).padStart(7);
    const times = row.times > 1 ? `  ×${row.times}` : '';
    lines.push(`  ${offset} ${duration}  ${MARK[row.status]} ${row.name}${times}`);
    if (row.error && row.status !== 'succeeded')
      lines.push(`${' '.repeat(22)}${row.error.error}: ${row.error.cause}`);
  }
  lines.push(...renderStages(summary));
  return lines;
}

function renderStages(summary: RunSummary): string[] {
  // A manual rollback touches its own stage only.
  const rollbackStage = summary.manualRollback?.stage;
  const stages = rollbackStage
    ? summary.stages.filter((stage) => stage.name === rollbackStage)
    : summary.stages;
  if (stages.length === 0) return [];
  const lines = ['', 'Stages'];
  const width = Math.max(...stages.map((stage) => stage.name.length));
  for (const stage of stages) {
    const parts: string[] = [];
    if (stage.approval) {
      const who = stage.approval.byName
        ? `${stage.approval.byName} (${stage.approval.by ?? '?'})`
        : (stage.approval.by ?? 'someone');
      parts.push(
        `${stage.approval.decision} by ${who}${stage.approval.via ? ` via ${stage.approval.via}` : ''}${
          stage.approval.at ? ` at ${stage.approval.at}` : ''
        }${stage.approval.reason ? `: "${stage.approval.reason}"` : ''}`,
      );
    }
    if (stage.pullRequest !== undefined) parts.push(`pull request #${stage.pullRequest}`);
    if (stage.commit) {
      const was = stage.previousTag ? `, was ${stage.previousTag}` : '';
      parts.push(`commit ${short(stage.commit)} (${stage.commitStatus ?? '?'}${was})`);
    }
    if (stage.health) parts.push(`${stage.health}${stage.healthMessage ? `: ${stage.healthMessage}` : ''}`);
    const { rollback } = stage;
    if (rollback) {
      const at = rollback.commit ? ` at ${short(rollback.commit)} (${rollback.commitStatus ?? '?'})` : '';
      const health = rollback.health
        ? `, ${rollback.health}${rollback.healthMessage ? `: ${rollback.healthMessage}` : ''}`
        : '';
      parts.push(`rollback to ${rollback.tag ?? '?'}${at}${health}`);
    }
    lines.push(`  ${stage.name.padEnd(width)}  ${parts.length > 0 ? parts.join('; ') : 'not reached'}`);
  }
  return lines;
}

export interface ShowOptions extends SourceOptions {
  readonly json?: boolean;
}

/** Shows one run; returns the exit code (0 shown, 1 not found or the source failed, 3-7 AWS: cli/failures.ts). */
export async function showRun(
  execution: string,
  options: ShowOptions,
  io: Io = processIo,
  deps: SourceDeps = {},
): Promise<number> {
  try {
    const reader = await openReader(options, deps);
    const detail = await reader.get(execution);
    if (options.json) {
      const timeline = buildTimeline(detail.events);
      io.out(
        JSON.stringify({
          execution: detail.name,
          arn: detail.arn,
          status: detail.status,
          startDate: detail.startDate,
          stopDate: detail.stopDate,
          ...summarizeRun(timeline),
          error: timeline.error,
          nextStep: nextStepOfRun(detail.name, timeline) ?? null,
          timeline: timeline.steps,
        }),
      );
      return 0;
    }
    for (const line of renderRun(detail)) io.out(line);
    return 0;
  } catch (error) {
    return reportFailure('show', error, io.err, { region: options.region, env: deps.env });
  }
}

/** Adds `show` to the program. */
export function registerShow(program: Command, io: Io = processIo, deps: SourceDeps = {}): void {
  addSourceOptions(
    program
      .command('show')
      .description('show one run: state timeline, stage results, approval decision')
      .argument('<execution>', 'execution name (or ARN)')
      .option('--json', 'print JSON'),
  ).action(async (execution: string, options: ShowOptions) => {
    process.exitCode = await showRun(execution, options, io, deps);
  });
}
