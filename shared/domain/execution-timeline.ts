/**
 * Reads a promotion run the way the Step Functions console shows it: from the execution's history
 * (GetExecutionHistory's event shape) to a list of states with their status, times, input and
 * output, and from there to what a person asks about a run — which stages committed what, who
 * approved, how it ended. The same code reads a run from AWS, from the local engine and from a
 * running sandbox, so `shiplane show` and the console page agree.
 */

import { asRunOutcome, failedRunOutcome, type RunOutcome } from '../contracts/tasks.js';
import { decisionFromRejection } from './approval.js';

/** The fields of a GetExecutionHistory event this module reads (the SDK's HistoryEvent fits). */
export interface HistoryEventLike {
  readonly id?: number | undefined;
  readonly type?: string | undefined;
  readonly timestamp?: Date | string | undefined;
  readonly previousEventId?: number | undefined;
  readonly executionStartedEventDetails?: { readonly input?: string | undefined } | undefined;
  readonly executionSucceededEventDetails?: { readonly output?: string | undefined } | undefined;
  readonly executionFailedEventDetails?: ErrorDetails | undefined;
  readonly executionAbortedEventDetails?: ErrorDetails | undefined;
  readonly executionTimedOutEventDetails?: ErrorDetails | undefined;
  readonly stateEnteredEventDetails?:
    | { readonly name?: string | undefined; readonly input?: string | undefined }
    | undefined;
  readonly stateExitedEventDetails?:
    | { readonly name?: string | undefined; readonly output?: string | undefined }
    | undefined;
  readonly taskFailedEventDetails?: ErrorDetails | undefined;
  readonly taskTimedOutEventDetails?: ErrorDetails | undefined;
  readonly taskStartFailedEventDetails?: ErrorDetails | undefined;
  readonly taskSubmitFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionTimedOutEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionStartFailedEventDetails?: ErrorDetails | undefined;
  readonly lambdaFunctionScheduleFailedEventDetails?: ErrorDetails | undefined;
}

interface ErrorDetails {
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
}

/** How a state ended, in the console's words: a caught failure is not the run's failure. */
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'caught';

export interface TimelineStep {
  readonly name: string;
  /** Task, Pass, Choice, Wait, Succeed, Fail, Map, Parallel. */
  readonly type: string;
  readonly status: StepStatus;
  readonly enteredAt: Date;
  readonly exitedAt: Date | undefined;
  readonly input: unknown;
  readonly output: unknown;
  /** The last error the state saw (a failed attempt that a retry fixed is not kept here). */
  readonly error: { readonly error: string; readonly cause: string } | undefined;
  /** How many times the task was retried. */
  readonly retries: number;
}

export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

export interface ExecutionTimeline {
  readonly status: ExecutionStatus;
  readonly startedAt: Date | undefined;
  readonly stoppedAt: Date | undefined;
  readonly input: unknown;
  readonly output: unknown;
  readonly error: { readonly error: string; readonly cause: string } | undefined;
  readonly steps: readonly TimelineStep[];
}

const ENTERED = /^(\w+)StateEntered$/;
const EXITED = /^(\w+)StateExited$/;
const FAILURE_DETAILS = [
  'taskFailedEventDetails',
  'taskTimedOutEventDetails',
  'taskStartFailedEventDetails',
  'taskSubmitFailedEventDetails',
  'lambdaFunctionFailedEventDetails',
  'lambdaFunctionTimedOutEventDetails',
  'lambdaFunctionStartFailedEventDetails',
  'lambdaFunctionScheduleFailedEventDetails',
] as const;

/** Parses a JSON document from a history event; text that is not JSON is kept as text. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const toDate = (value: Date | string | undefined): Date | undefined =>
  value === undefined ? undefined : value instanceof Date ? value : new Date(value);

const errorOf = (details: ErrorDetails | undefined) =>
  details ? { error: details.error ?? 'Error', cause: details.cause ?? '' } : undefined;

interface MutableStep {
  name: string;
  type: string;
  status: StepStatus;
  enteredAt: Date;
  exitedAt: Date | undefined;
  input: unknown;
  output: unknown;
  error: { error: string; cause: string } | undefined;
  retries: number;
  failedAttempt: boolean;
}

/** Builds the console's view of a run from its history events, in the order they happened. */
export function buildTimeline(events: readonly HistoryEventLike[]): ExecutionTimeline {
  const sorted = [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const steps: MutableStep[] = [];
  let status: ExecutionStatus = 'RUNNING';
  let startedAt: Date | undefined;
  let stoppedAt: Date | undefined;
  let input: unknown;
  let output: unknown;
  let error: { error: string; cause: string } | undefined;
  const open = () => [...steps].reverse().find((step) => step.exitedAt === undefined);

  for (const event of sorted) {
    const type = event.type ?? '';
    const at = toDate(event.timestamp) ?? new Date(0);
    const entered = ENTERED.exec(type);
    const exited = EXITED.exec(type);
    if (type === 'ExecutionStarted') {
      startedAt = at;
      input = parseJson(event.executionStartedEventDetails?.input);
    } else if (type === 'ExecutionSucceeded') {
      status = 'SUCCEEDED';
      stoppedAt = at;
      output = parseJson(event.executionSucceededEventDetails?.output);
    } else if (type === 'ExecutionFailed' || type === 'ExecutionAborted' || type === 'ExecutionTimedOut') {
      status = type === 'ExecutionFailed' ? 'FAILED' : type === 'ExecutionAborted' ? 'ABORTED' : 'TIMED_OUT';
      stoppedAt = at;
      error = errorOf(
        event.executionFailedEventDetails ??
          event.executionAbortedEventDetails ??
          event.executionTimedOutEventDetails,
      );
      const step = open();
      if (step) {
        step.status = 'failed';
        step.exitedAt = at;
        step.error ??= error;
      }
    } else if (entered) {
      steps.push({
        name: event.stateEnteredEventDetails?.name ?? '(unnamed)',
        type: entered[1] ?? 'Task',
        status: entered[1] === 'Fail' ? 'failed' : 'running',
        enteredAt: at,
        exitedAt: undefined,
        input: parseJson(event.stateEnteredEventDetails?.input),
        output: undefined,
        error: undefined,
        retries: 0,
        failedAttempt: false,
      });
    } else if (exited) {
      const name = event.stateExitedEventDetails?.name;
      const step = [...steps].reverse().find((s) => s.exitedAt === undefined && (!name || s.name === name));
      if (step) {
        step.exitedAt = at;
        step.output = parseJson(event.stateExitedEventDetails?.output);
        step.status = step.failedAttempt ? 'caught' : 'succeeded';
      }
    } else if (type === 'TaskScheduled' || type === 'LambdaFunctionScheduled') {
      const step = open();
      if (step?.failedAttempt) {
        step.retries += 1;
        step.failedAttempt = false;
        step.error = undefined;
      }
    } else {
      const key = FAILURE_DETAILS.find((k) => event[k] !== undefined);
      if (key) {
        const step = open();
        if (step) {
          step.failedAttempt = true;
          step.error = errorOf(event[key]);
        }
      }
    }
  }
  return {
    status,
    startedAt,
    stoppedAt,
    input,
    output,
    error,
    steps: steps.map(({ failedAttempt: _, ...step }) => step),
  };
}

/** What each stage of a run did, read from the run's data (`$.stages`). */
export interface StageSummary {
  readonly name: string;
  readonly commit: string | undefined;
  readonly commitStatus: string | undefined;
  readonly previousTag: string | null | undefined;
  /** The stage's pull request (`stages[].pullRequest`), when it went through one: its number and page. */
  readonly pullRequest?: number;
  readonly pullRequestUrl?: string;
  readonly health: string | undefined;
  readonly healthMessage: string | undefined;
  readonly approval:
    | {
        readonly decision: string;
        readonly by: string | undefined;
        readonly byName: string | undefined;
        readonly at: string | undefined;
        readonly reason: string | undefined;
        readonly via: string | undefined;
      }
    | undefined;
  /** The stage's automatic rollback, when it had one: where to, the commit and Argo CD's last word. */
  readonly rollback:
    | {
        readonly tag: string | undefined;
        readonly commit: string | undefined;
        readonly commitStatus: string | undefined;
        readonly health: string | undefined;
        readonly healthMessage: string | undefined;
      }
    | undefined;
}

/** A manual rollback run (`shiplane rollback`), from its input. */
export interface ManualRollbackSummary {
  readonly stage: string;
  /** The tag the stage ran when the rollback was asked, when Shiplane knew it. */
  readonly fromTag: string | undefined;
  readonly reason: string | undefined;
  readonly by: string | undefined;
}

export interface RunSummary {
  readonly app: string | undefined;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
  /** Set when the run is a manual rollback: `tag` is then the tag the stage goes back to. */
  readonly manualRollback?: ManualRollbackSummary;
  readonly outcome: RunOutcome | undefined;
  /** The state the run is in now, or the terminal state it ended in. */
  readonly currentState: string | undefined;
  readonly stages: readonly StageSummary[];
  /** Set while the run waits out a change freeze (`<Stage> · Wait for freeze to end`). */
  readonly frozen?: FrozenSummary;
}

/** A run waiting out a stage's change freeze: until when, and the thread's line about it. */
export interface FrozenSummary {
  readonly stage: string;
  /** ISO instant the wait ends (the freeze check's `until`). */
  readonly until: string;
  /** `production frozen until Mon 06:00 JST: release freeze`. */
  readonly notice: string | undefined;
}

/** The freeze the run waits out now: its current state is a running Wait whose stage's check said frozen. */
function frozenNow(timeline: ExecutionTimeline): FrozenSummary | undefined {
  const step = timeline.steps.at(-1);
  if (!step || step.exitedAt !== undefined || step.type !== 'Wait' || !isObject(step.input)) return undefined;
  const stages = isObject(step.input.stages) ? step.input.stages : {};
  for (const [stage, value] of Object.entries(stages)) {
    const freeze = isObject(value) && isObject(value.freeze) ? value.freeze : undefined;
    const until = str(freeze?.until);
    if (freeze?.status !== 'frozen' || !until) continue;
    if (!step.name.toLowerCase().startsWith(`${stage} · `)) continue;
    return { stage, until, notice: str(freeze.notice) };
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The most recent `$.stages` the run has written, whichever state wrote it. */
function latestStages(timeline: ExecutionTimeline): Record<string, unknown> | undefined {
  if (isObject(timeline.output) && isObject(timeline.output.stages)) return timeline.output.stages;
  for (const step of [...timeline.steps].reverse()) {
    for (const doc of [step.output, step.input]) {
      if (isObject(doc) && isObject(doc.stages)) return doc.stages;
    }
  }
  return undefined;
}

/** Summarizes a run: its release, outcome, and per stage the commit, health and approval decision. */
export function summarizeRun(timeline: ExecutionTimeline): RunSummary {
  const release = isObject(timeline.input) && isObject(timeline.input.release) ? timeline.input.release : {};
  const rawOutcome = isObject(timeline.output) ? timeline.output.outcome : undefined;
  let outcome = asRunOutcome(rawOutcome);
  if (!outcome && (timeline.status === 'FAILED' || timeline.status === 'TIMED_OUT')) {
    outcome = failedRunOutcome(timeline.error?.error);
  }

  // A stage that was rejected has no approval output; its decision is in the error the Catch kept.
  const rejection = [...timeline.steps]
    .reverse()
    .find((step) => step.status === 'caught' && step.error?.error === 'Shiplane.Rejected');
  const stages = Object.entries(latestStages(timeline) ?? {}).map(([name, value]): StageSummary => {
    const data = isObject(value) ? value : {};
    const commit = isObject(data.commit) ? data.commit : {};
    const health = isObject(data.health) ? data.health : {};
    let approval: StageSummary['approval'];
    if (isObject(data.approval)) {
      approval = {
        decision: str(data.approval.decision) ?? 'approved',
        by: str(data.approval.by),
        byName: str(data.approval.byName),
        at: str(data.approval.at),
        reason: str(data.approval.reason),
        via: str(data.approval.via),
      };
    } else if (rejection?.name.toLowerCase().startsWith(`${name} · `)) {
      // The interaction handler may put the decision in the cause as JSON, or a sentence.
      const cause = parseJson(rejection.error?.cause);
      const at = rejection.exitedAt?.toISOString();
      // The sentence rejectionCause writes: who, how, and the reason after the colon.
      const sentence = isObject(cause)
        ? undefined
        : decisionFromRejection(rejection.error?.cause ?? '', at ?? '');
      const detail: Record<string, unknown> = isObject(cause) ? cause : (sentence ?? {});
      approval = {
        decision: 'rejected',
        by: str(detail.by),
        byName: str(detail.byName),
        at: str(detail.at) ?? at,
        reason: isObject(cause) || sentence ? str(detail.reason) : str(cause),
        via: str(detail.via),
      };
    }
    const rollback = isObject(data.rollback) ? data.rollback : undefined;
    const rollbackCommit = isObject(rollback?.commit) ? rollback.commit : {};
    const rollbackHealth = isObject(rollback?.health) ? rollback.health : {};
    const pull = isObject(data.pullRequest) ? data.pullRequest : {};
    return {
      name,
      ...(typeof pull.number === 'number' ? { pullRequest: pull.number } : {}),
      ...(typeof pull.url === 'string' ? { pullRequestUrl: pull.url } : {}),
      rollback: rollback && {
        tag: isObject(rollback.target) ? str(rollback.target.tag) : undefined,
        commit: str(rollbackCommit.commit),
        commitStatus: str(rollbackCommit.status),
        health: str(rollbackHealth.status),
        healthMessage: str(rollbackHealth.message),
      },
      commit: str(commit.commit),
      commitStatus: str(commit.status),
      previousTag: commit.previousTag === null ? null : str(commit.previousTag),
      health: str(health.status),
      healthMessage: str(health.message),
      approval,
    };
  });
  const rollback = isObject(timeline.input) ? manualRollbackOf(timeline.input) : undefined;
  const frozen = frozenNow(timeline);
  return {
    app: str(release.app),
    tag: str(release.tag),
    digest: str(release.digest),
    ...(rollback ? { manualRollback: rollback } : {}),
    outcome,
    currentState: timeline.steps.at(-1)?.name,
    stages,
    ...(frozen ? { frozen } : {}),
  };
}

/** The manual rollback a run's input asks for (`rollback`), if any. */
export function manualRollbackOf(input: Record<string, unknown>): ManualRollbackSummary | undefined {
  const rollback = input.rollback;
  if (!isObject(rollback)) return undefined;
  const stage = str(rollback.stage);
  if (!stage) return undefined;
  return {
    stage,
    fromTag: isObject(rollback.from) ? str(rollback.from.tag) : undefined,
    reason: str(rollback.reason),
    by: str(rollback.by),
  };
}

/** How long a rolled-back stage ran degraded: our share of the time to recover. */
export interface Recovery {
  readonly stage: string;
  /** When Argo CD's Degraded verdict was seen (the check's `checkedAt`). */
  readonly degradedAt: string;
  /** When Argo CD reported the stage Synced and Healthy at the rollback commit. */
  readonly restoredAt: string;
  readonly seconds: number;
  /** The rollback commit. */
  readonly commit: string;
}

/** The recovery of a run whose stage was rolled back and is healthy again; undefined otherwise. */
export function recoveryOf(timeline: ExecutionTimeline): Recovery | undefined {
  for (const [stage, value] of Object.entries(latestStages(timeline) ?? {})) {
    if (!isObject(value) || !isObject(value.rollback) || !isObject(value.health)) continue;
    const { rollback, health } = value;
    const after = isObject(rollback.health) ? rollback.health : {};
    const commit = isObject(rollback.commit) ? str(rollback.commit.commit) : undefined;
    const degradedAt = str(health.checkedAt);
    const restoredAt = str(after.checkedAt);
    if (after.status !== 'healthy' || !commit || !degradedAt || !restoredAt) continue;
    const seconds = Math.max(0, Math.round((Date.parse(restoredAt) - Date.parse(degradedAt)) / 1000));
    return { stage, degradedAt, restoredAt, seconds, commit };
  }
  return undefined;
}

/** `1.2s`, `3m04s`, `2h05m`: how long a state took, compact enough for a timeline column. */
export function formatElapsed(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
