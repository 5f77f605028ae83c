/**
 * `shiplane rollback <app> --stage S [--to TAG] [--reason R]`: starts a run that puts one stage of
 * one app back on a tag it ran Synced and Healthy before: the newest such tag other than the one it
 * runs now, or `--to TAG`. The tag comes from the stage's record in the approvals table
 * (`deployed#<app>#<stage>`), never from git history; the run's input carries the release and the
 * `rollback` the committer checks before it moves the stage back. The same function serves a
 * deployed stack and the sandbox; only the `RollbackTarget` differs.
 *
 * The run is named `<app>-<stage>-rollback-<tag>-<n>` (see rollbackExecutionName for the hashed form
 * of names that could be read two ways): the first `n` no run has taken. While a run
 * of that name is still going, the same rollback is not started twice.
 */

import { type RunInput, runInputSchema } from '../../contracts/tasks.js';
import { rollbackExecutionName } from '../../domain/execution-name.js';
import { chooseRollbackTarget, EMPTY_STAGE_TAGS, type StageTags } from '../../domain/stage-tags.js';
import type { StartExecutionResult } from '../../ports/executions.js';
import type { RunRecord } from './retry-run.js';

/** What the config says a rollback may name. */
export interface RollbackScope {
  readonly apps: readonly string[];
  readonly stages: ReadonlyArray<{ readonly name: string; readonly approval: boolean }>;
}

export interface RollbackRequest {
  readonly app: string;
  readonly stage: string;
  /** A tag the stage ran healthy; default: the newest one other than what it runs now. */
  readonly to?: string | undefined;
  readonly reason?: string | undefined;
  /** Who asks (the AWS caller identity); recorded in the run, the commit and Slack. */
  readonly by?: string | undefined;
}

/** Where the stage's record is read and runs are read and started. */
export interface RollbackTarget {
  /** Ends messages: `on <state machine ARN>`, `in the sandbox`. */
  readonly where: string;
  stageTags(app: string, stage: string): Promise<StageTags | undefined>;
  find(name: string): Promise<RunRecord | undefined>;
  start(name: string, input: RunInput): Promise<StartExecutionResult>;
}

export type RollbackResult =
  | {
      readonly result: 'started';
      readonly execution: string;
      readonly executionArn: string;
      readonly app: string;
      readonly stage: string;
      /** What the stage ran when the rollback was asked, as Shiplane recorded it. */
      readonly from: string | null;
      readonly to: string;
      readonly digest: string;
      /** The stage asks for approval in Slack before the rollback is committed. */
      readonly approval: boolean;
    }
  /** Nothing was started: no tag to roll back to, or the same rollback is already running. */
  | { readonly result: 'refused'; readonly message: string }
  /** Nothing was started: the app or stage is not in the config, or the reason is unusable. */
  | { readonly result: 'invalid'; readonly message: string };

/** `-99` at most: a stage rolled back to one tag this often needs a person, not another run. */
export const MAX_ROLLBACK_ATTEMPT = 99;

/** The reason recorded when `--reason` is not given. */
export const DEFAULT_ROLLBACK_REASON = 'manual rollback (shiplane rollback)';

const MAX_REASON = 500;

/** The reason a run records: `--reason` on one line, or the default. */
const reasonOf = (request: RollbackRequest) =>
  (request.reason ?? DEFAULT_ROLLBACK_REASON).replace(/\s+/g, ' ').trim();

/** Why the request names nothing the config has, or undefined; checked before anything is read. */
export function invalidRollbackRequest(
  request: RollbackRequest,
  scope: RollbackScope,
): (RollbackResult & { result: 'invalid' }) | undefined {
  const { app, stage } = request;
  if (!scope.apps.includes(app)) {
    return { result: 'invalid', message: `unknown app ${app}; the config has ${scope.apps.join(', ')}` };
  }
  if (!scope.stages.some((candidate) => candidate.name === stage)) {
    return {
      result: 'invalid',
      message: `unknown stage ${stage}; the config has ${scope.stages.map((s) => s.name).join(', ')}`,
    };
  }
  const reason = reasonOf(request);
  if (reason === '' || reason.length > MAX_REASON) {
    return { result: 'invalid', message: `--reason must be 1 to ${MAX_REASON} characters` };
  }
  if (request.to !== undefined && request.to.trim() === '') {
    return { result: 'invalid', message: '--to must name a tag' };
  }
  return undefined;
}

/** Checks the request, chooses the tag, and starts the rollback run under the first free name. */
export async function rollbackRun(
  request: RollbackRequest,
  scope: RollbackScope,
  target: RollbackTarget,
): Promise<RollbackResult> {
  const invalid = invalidRollbackRequest(request, scope);
  if (invalid) return invalid;
  const { app, stage } = request;
  const approval = scope.stages.some((candidate) => candidate.name === stage && candidate.approval);
  const reason = reasonOf(request);

  const tags = (await target.stageTags(app, stage)) ?? EMPTY_STAGE_TAGS;
  const choice = chooseRollbackTarget(tags, { app, stage, to: request.to });
  if ('problem' in choice) return { result: 'refused', message: choice.problem };
  const { release } = choice.target;
  const parsed = runInputSchema.safeParse({
    release,
    rollback: { stage, from: choice.from, reason, ...(request.by ? { by: request.by } : {}) },
  });
  if (!parsed.success || release.app !== app) {
    return {
      result: 'refused',
      message: `the release recorded for ${app} ${release.tag} in ${stage} cannot start a run: ${
        parsed.success
          ? `it is a release of ${release.app}`
          : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')
      }`,
    };
  }

  const running = (name: string): RollbackResult => ({
    result: 'refused',
    message: `the rollback of ${app} in ${stage} to ${release.tag} is already running as ${name}; follow it with \`shiplane show ${name}\``,
  });
  const isRunning = (run: RunRecord | undefined) =>
    run?.status === 'RUNNING' || run?.status === 'PENDING_REDRIVE';
  for (let attempt = 1; attempt <= MAX_ROLLBACK_ATTEMPT; attempt++) {
    const name = rollbackExecutionName(app, stage, release.tag, attempt);
    const existing = await target.find(name);
    if (isRunning(existing)) return running(name);
    if (existing) continue;
    const started = await target.start(name, parsed.data);
    if (started.status === 'already-exists') {
      // Someone started the name between the look and the start: the same rollback, asked twice.
      if (isRunning(await target.find(name))) return running(name);
      continue;
    }
    return {
      result: 'started',
      execution: name,
      executionArn: started.executionArn,
      app,
      stage,
      from: choice.from?.tag ?? null,
      to: release.tag,
      digest: release.digest,
      approval,
    };
  }
  return {
    result: 'refused',
    message: `${app} in ${stage} has been rolled back to ${release.tag} ${MAX_ROLLBACK_ATTEMPT} times; look at what keeps failing before trying again`,
  };
}
