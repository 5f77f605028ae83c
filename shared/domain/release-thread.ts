/**
 * One chat thread per release: its state says where the release is in every stage, each event moves
 * it, and a bad event raises an alert. Pure: the thread's state goes in, the next state and the
 * alert come out. How a chat draws the thread (the parent message, a reply per event) is the chat
 * adapter's business (shared/adapters/slack/release-thread-message.ts for Slack).
 */

import { freezeStatusSchema } from '../contracts/freeze.js';
import {
  commitResultSchema,
  ERRORS,
  healthCheckResultSchema,
  manualRollbackSchema,
  type Notification,
  type NotificationEvent,
  type Release,
  type RunOutcome,
  rollbackProgressSchema,
} from '../contracts/tasks.js';
import { supersededBy } from './superseded.js';
import { clip } from './text.js';

export type StageStatus =
  | 'committed'
  | 'healthy'
  | 'awaiting-approval'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'degraded'
  | 'timed-out'
  | 'superseded'
  | 'failed'
  | 'rolling-back'
  | 'rolled-back'
  | 'frozen';

export interface StageProgress {
  readonly status: StageStatus;
  readonly at: string;
  /** The GitOps commit the stage is at, once committed. */
  readonly commit?: string;
  /** One line about the status: who approved, what is degraded. */
  readonly note?: string;
}

/** What the parent message shows; stored with the thread so every event can rebuild it. */
export interface ThreadState {
  readonly execution: string;
  readonly release: Release;
  readonly startedAt: string;
  readonly stages: Readonly<Record<string, StageProgress>>;
  readonly outcome?: RunOutcome;
  /** The run this one retries (`shiplane retry`). */
  readonly retryOf?: string;
  /** Set for a manual rollback run (`shiplane rollback`): its thread is about that one stage. */
  readonly rollback?: ThreadRollback;
}

/** A manual rollback as its thread shows it: the stage, what it moves from, why and who asked. */
export interface ThreadRollback {
  readonly stage: string;
  readonly fromTag?: string;
  readonly reason: string;
  readonly by?: string;
}

/** Who decided an approval, as far as notify knows (from the approvals table or the event's detail). */
export interface DecisionView {
  readonly by: string;
  readonly byName?: string;
  readonly via: 'slack' | 'cli';
  readonly reason?: string;
  /** Approved during a change freeze (break glass): the freeze it broke. */
  readonly breakGlass?: { readonly until: string; readonly freeze: string };
}

/**
 * Events that also go to the alert topic. A rejection is a decision, not trouble; a superseded
 * release (a newer one is already there) is not trouble either.
 */
export const ALERT_EVENTS: ReadonlySet<NotificationEvent> = new Set([
  'failed',
  'degraded',
  'timed-out',
  'expired',
  'rolled-back',
]);

const STATUS_OF: Partial<Record<NotificationEvent, StageStatus>> = {
  committed: 'committed',
  healthy: 'healthy',
  'approval-requested': 'awaiting-approval',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  degraded: 'degraded',
  'timed-out': 'timed-out',
  superseded: 'superseded',
  failed: 'failed',
  'rolling-back': 'rolling-back',
  'rolled-back': 'rolled-back',
  frozen: 'frozen',
};

/** The run outcome an event settles, if any. */
export const OUTCOME_OF: Partial<Record<NotificationEvent, RunOutcome>> = {
  deployed: 'deployed',
  rejected: 'rejected',
  expired: 'expired',
  superseded: 'superseded',
  degraded: 'failed',
  'timed-out': 'failed',
  failed: 'failed',
  'rolled-back': 'rolled-back',
  blocked: 'blocked',
};

/** A new thread's state, before any stage has moved. */
export function newThreadState(execution: string, release: Release, now: Date): ThreadState {
  return { execution, release, startedAt: now.toISOString(), stages: {} };
}

/**
 * The stage an event is about. `Notify failed` is shared by every stage and carries none, so a
 * failure belongs to the furthest stage that has started and is not healthy yet (or the next one).
 */
export function stageOfEvent(
  state: ThreadState,
  notification: Notification,
  order: readonly string[],
): string | undefined {
  if (notification.stage) return notification.stage;
  if (notification.event !== 'failed') return undefined;
  // A manual rollback run touches one stage.
  if (state.rollback) return state.rollback.stage;
  for (let i = order.length - 1; i >= 0; i -= 1) {
    const name = order[i]!;
    const progress = state.stages[name];
    if (progress) return progress.status === 'healthy' ? order[i + 1] : name;
  }
  return order[0];
}

/** A run error as the state machine passes it (`$.error`): `{ Error, Cause }`. */
export interface RunError {
  readonly error: string;
  readonly cause: string;
}

/**
 * Reads `{ Error, Cause }`. A Lambda error's Cause is JSON (`errorType`, `errorMessage`, `trace`);
 * people need the message, not the stack.
 */
export function runErrorOf(detail: unknown): RunError | undefined {
  if (typeof detail !== 'object' || detail === null) return undefined;
  const { Error: error, Cause: cause } = detail as { Error?: unknown; Cause?: unknown };
  if (typeof error !== 'string') return undefined;
  let text = typeof cause === 'string' ? cause : '';
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown; errorType?: unknown };
    if (typeof parsed?.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // a plain-text Cause (our own Pass states and task-token failures) is already readable
  }
  return { error, cause: text };
}

/** The one-line note a stage gets for an event. */
function noteFor(notification: Notification, decision: DecisionView | undefined): string | undefined {
  const { event, detail } = notification;
  if (event === 'committed') {
    const commit = commitResultSchema.safeParse(detail).data;
    if (commit?.status === 'unchanged') return 'already at this version';
    return commit?.previousTag ? `was ${commit.previousTag}` : undefined;
  }
  if (event === 'approved' || event === 'rejected') {
    if (decision)
      return `${decision.breakGlass ? 'break glass ' : ''}by ${decision.byName ?? decision.by}${decision.reason ? `: ${decision.reason}` : ''}`;
    return runErrorOf(detail)?.cause;
  }
  if (event === 'superseded') {
    const newer = supersededBy(runErrorOf(detail)?.cause ?? '');
    return newer ? `${newer} is already there` : 'a newer release is already there';
  }
  if (event === 'rolling-back' || event === 'rolled-back') {
    const rollback = rollbackProgressSchema.safeParse(detail).data;
    if (!rollback) return undefined;
    const verb = event === 'rolling-back' ? 'rolling back' : 'rolled back';
    return clip(`${verb} to ${rollback.target.tag}: ${rollback.reason}`, 300);
  }
  if (event === 'frozen') {
    const freeze = freezeStatusSchema.safeParse(detail).data;
    return freeze?.status === 'frozen' ? clip(freeze.notice, 300) : undefined;
  }
  if (event === 'degraded' || event === 'timed-out' || event === 'failed') {
    const error = runErrorOf(detail);
    if (error) return clip(error.cause || error.error, 300);
    return healthCheckResultSchema.safeParse(detail).data?.message;
  }
  return undefined;
}

/** `started` carries the run's input; a retry's has `retryOf`. */
export function retryOfDetail(detail: unknown): string | undefined {
  const retryOf =
    typeof detail === 'object' && detail !== null ? (detail as { retryOf?: unknown }).retryOf : undefined;
  return typeof retryOf === 'string' ? retryOf : undefined;
}

/** `started` carries the run's input; a manual rollback's has `rollback`. */
export function rollbackOfDetail(detail: unknown): ThreadRollback | undefined {
  const rollback =
    typeof detail === 'object' && detail !== null ? (detail as { rollback?: unknown }).rollback : undefined;
  const parsed = manualRollbackSchema.safeParse(rollback).data;
  if (!parsed) return undefined;
  return {
    stage: parsed.stage,
    ...(parsed.from ? { fromTag: parsed.from.tag } : {}),
    reason: parsed.reason,
    ...(parsed.by ? { by: parsed.by } : {}),
  };
}

/** The thread's state after an event. Events without a stage only move the outcome. */
export function applyNotification(
  state: ThreadState,
  notification: Notification,
  order: readonly string[],
  now: Date,
  decision?: DecisionView,
): ThreadState {
  const stage = stageOfEvent(state, notification, order);
  const status = STATUS_OF[notification.event];
  let stages = state.stages;
  if (stage && status) {
    const previous = state.stages[stage];
    // A rolled-back stage is at its rollback commit from now on.
    const commit =
      commitResultSchema.safeParse(notification.detail).data?.commit ??
      rollbackProgressSchema.safeParse(notification.detail).data?.commit?.commit ??
      (notification.event === 'committed' ? undefined : previous?.commit);
    const note = noteFor(notification, decision);
    stages = {
      ...state.stages,
      [stage]: {
        status,
        at: now.toISOString(),
        ...(commit ? { commit } : {}),
        ...(note ? { note } : {}),
      },
    };
  }
  const outcome = OUTCOME_OF[notification.event] ?? state.outcome;
  const started = notification.event === 'started';
  const retryOf = started ? retryOfDetail(notification.detail) : undefined;
  const rollback = started ? rollbackOfDetail(notification.detail) : undefined;
  return {
    ...state,
    stages,
    ...(outcome ? { outcome } : {}),
    ...(retryOf ? { retryOf } : {}),
    ...(rollback ? { rollback } : {}),
  };
}

/** Which stage of which app a commit was made for: it names the repository the commit is in. */
export interface CommitPlace {
  readonly app: string;
  readonly stage: string;
}

/**
 * Makes a link to a commit made for `at` (an app's tag in a stage, or the Argo CD revision of that
 * stage): the repository is where config/tag-location.ts puts that tag, which need not be
 * `gitops.repository`. Undefined when there is no web URL for it.
 */
export type CommitLink = (sha: string, at: CommitPlace) => string | undefined;

/** An SNS message: Subject is ASCII, one line, at most 100 characters. */
export interface Alert {
  readonly subject: string;
  readonly message: string;
}

const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');

/** The alert for an event that needs one, else `undefined`. */
export function alertFor(
  state: ThreadState,
  notification: Notification,
  order: readonly string[],
): Alert | undefined {
  if (!ALERT_EVENTS.has(notification.event)) return undefined;
  const { release } = state;
  const stage = stageOfEvent(state, notification, order);
  const error = runErrorOf(notification.detail);
  const health = healthCheckResultSchema.safeParse(notification.detail).data;
  const what: Record<string, string> = {
    failed: 'failed',
    degraded: 'degraded',
    'timed-out': 'not healthy in time',
    expired: error?.error === ERRORS.pullRequestExpired ? 'pull request expired' : 'approval expired',
    'rolled-back': 'rolled back',
  };
  const rollback =
    notification.event === 'rolled-back'
      ? rollbackProgressSchema.safeParse(notification.detail).data
      : undefined;
  const line = ascii(
    `Shiplane: ${state.rollback ? 'rollback of ' : ''}${release.app} ${release.tag} ${what[notification.event]}${stage ? ` in ${stage}` : ''}`,
  ).replace(/\s+/g, ' ');
  const subject = line.length <= 100 ? line : `${line.slice(0, 97)}...`;
  const lines = [
    `Release: ${release.app} ${release.tag} (${release.ecrRepository}@${release.digest})`,
    ...(state.rollback
      ? [
          `Manual rollback of ${state.rollback.stage}${state.rollback.fromTag ? ` from ${state.rollback.fromTag}` : ''} to ${release.tag}${state.rollback.by ? `, asked by ${state.rollback.by}` : ''}: ${state.rollback.reason}`,
        ]
      : []),
    `Event: ${notification.event}${stage ? ` in ${stage}` : ''}`,
    ...(error ? [`Error: ${error.error}`, `Cause: ${error.cause}`] : []),
    ...(health && !error ? [`Argo CD: ${health.syncStatus}/${health.healthStatus}: ${health.message}`] : []),
    ...(rollback
      ? [
          `Rolled back to: ${rollback.target.tag}${rollback.commit ? ` at commit ${rollback.commit.commit}` : ''}`,
          `Reason: ${rollback.reason}`,
        ]
      : []),
    ...(notification.event === 'expired' && error?.error !== ERRORS.pullRequestExpired
      ? ['Nobody approved the promotion before the approval timeout; the run ended "Approval expired".']
      : []),
    `Execution: ${notification.execution}`,
  ];
  return { subject, message: lines.join('\n') };
}
