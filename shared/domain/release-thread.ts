/**
 * One Slack thread per release: a parent message that always shows where the release is in every
 * stage (updated in place), a reply per event, and the alert a bad event raises. Pure: the thread's
 * state goes in, the next state and the messages come out.
 */

import {
  mrkdwn,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  utcDateTime,
  utcTime,
} from '../adapters/slack/approval-message.js';
import { clip, code, escapeSlackText, link, mention, slackDate } from '../adapters/slack/slack-text.js';
import {
  approvalDecisionSchema,
  commitResultSchema,
  healthCheckResultSchema,
  manualRollbackSchema,
  type Notification,
  type NotificationEvent,
  type Release,
  type RollbackProgress,
  type RunOutcome,
  rollbackProgressSchema,
} from '../contracts/tasks.js';
import { nextStep } from './next-step.js';
import { supersededBy } from './superseded.js';

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
  | 'rolled-back';

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
};

const OUTCOME_OF: Partial<Record<NotificationEvent, RunOutcome>> = {
  deployed: 'deployed',
  rejected: 'rejected',
  expired: 'expired',
  superseded: 'superseded',
  degraded: 'failed',
  'timed-out': 'failed',
  failed: 'failed',
  'rolled-back': 'rolled-back',
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
      return `by ${decision.byName ?? decision.by}${decision.reason ? `: ${decision.reason}` : ''}`;
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
  if (event === 'degraded' || event === 'timed-out' || event === 'failed') {
    const error = runErrorOf(detail);
    if (error) return clip(error.cause || error.error, 300);
    return healthCheckResultSchema.safeParse(detail).data?.message;
  }
  return undefined;
}

/** `started` carries the run's input; a retry's has `retryOf`. */
function retryOfDetail(detail: unknown): string | undefined {
  const retryOf =
    typeof detail === 'object' && detail !== null ? (detail as { retryOf?: unknown }).retryOf : undefined;
  return typeof retryOf === 'string' ? retryOf : undefined;
}

/** `started` carries the run's input; a manual rollback's has `rollback`. */
function rollbackOfDetail(detail: unknown): ThreadRollback | undefined {
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

const STATUS_LABEL: Record<StageStatus, string> = {
  committed: ':large_blue_circle: committed, waiting for Argo CD',
  healthy: ':white_check_mark: healthy',
  'awaiting-approval': ':raised_hand: awaiting approval',
  approved: ':+1: approved',
  rejected: ':no_entry: rejected',
  expired: ':hourglass: approval expired',
  degraded: ':red_circle: degraded',
  'timed-out': ':red_circle: not healthy in time',
  superseded: ':fast_forward: superseded, not deployed',
  failed: ':red_circle: failed',
  'rolling-back': ':rewind: degraded, rolling back',
  'rolled-back': ':rewind: rolled back',
};

const OUTCOME_TITLE: Record<RunOutcome | 'running', string> = {
  running: ':rocket: Releasing',
  deployed: ':tada: Deployed',
  rejected: ':no_entry: Rejected',
  expired: ':hourglass: Approval expired for',
  superseded: ':fast_forward: Superseded',
  'rolled-back': ':rewind: Rolled back',
  failed: ':red_circle: Failed to release',
};

/** A manual rollback's parent title: it deployed an earlier tag, so `deployed` reads as rolled back. */
const ROLLBACK_TITLE: Record<RunOutcome | 'running', string> = {
  running: ':rewind: Rolling back',
  deployed: ':rewind: Rolled back',
  rejected: ':no_entry: Rollback rejected:',
  expired: ':hourglass: Rollback approval expired:',
  superseded: ':fast_forward: Rollback superseded:',
  'rolled-back': ':rewind: Rolled back',
  failed: ':red_circle: Rollback failed:',
};

const shortSha = (sha: string) => sha.slice(0, 7);

export type CommitLink = (sha: string) => string | undefined;

/** The parent message: the release and one line per configured stage. */
export function releaseParentMessage(
  state: ThreadState,
  order: readonly string[],
  commitUrl: CommitLink,
): SlackMessage {
  const L = SLACK_LIMITS;
  const { release, rollback } = state;
  const title = rollback
    ? `${ROLLBACK_TITLE[state.outcome ?? 'running']} ${release.app} in ${rollback.stage}: ${rollback.fromTag ? `${rollback.fromTag} → ` : 'to '}${release.tag}`
    : `${OUTCOME_TITLE[state.outcome ?? 'running']} ${release.app} ${release.tag}`;
  // A manual rollback touches its stage only.
  const lines = (rollback ? [rollback.stage] : order).map((name) => {
    const progress = state.stages[name];
    if (!progress) return `*${escapeSlackText(name)}*  :white_circle: not started`;
    const at = new Date(progress.at);
    const commit = progress.commit
      ? ` at ${link(commitUrl(progress.commit), code(shortSha(progress.commit)))}`
      : '';
    const note = progress.note ? ` (${escapeSlackText(clip(progress.note, 300))})` : '';
    return `*${escapeSlackText(name)}*  ${STATUS_LABEL[progress.status]}${commit}${note} · ${slackDate(at, '{time}', utcTime(at))}`;
  });
  const started = new Date(state.startedAt);
  const blocks: SlackBlock[] = [
    { type: 'section', text: mrkdwn(`*${escapeSlackText(title)}*`, L.sectionText) },
    ...(rollback
      ? [
          {
            type: 'section' as const,
            text: mrkdwn(
              `Manual rollback${rollback.by ? ` asked by ${code(rollback.by)}` : ''}: ${escapeSlackText(rollback.reason)}`,
              L.sectionText,
            ),
          },
        ]
      : []),
    { type: 'section', text: mrkdwn(lines.join('\n'), L.sectionText) },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `${code(`${release.ecrRepository}@${release.digest}`)} · started ${slackDate(started, '{date_short_pretty} {time}', utcDateTime(started))} · run ${code(state.execution)}${state.retryOf ? `, a retry of ${code(state.retryOf)}` : ''}`,
          L.contextText,
        ),
      ],
    },
  ];
  return { text: clip(escapeSlackText(title.replace(/^:[a-z_]+: /, '')), 300), blocks };
}

/** The thread reply for an event; `undefined` for `started` (the parent message says it). */
export function eventReply(
  state: ThreadState,
  notification: Notification,
  order: readonly string[],
  commitUrl: CommitLink,
  decision?: DecisionView,
): string | undefined {
  const { release, rollback } = state;
  const stage = stageOfEvent(state, notification, order) ?? rollback?.stage;
  const where = stage ? `*${escapeSlackText(stage)}*` : 'the release';
  const tag = code(release.tag);
  const detail = notification.detail;
  const error = runErrorOf(detail);
  const reason = (fallback: string) => escapeSlackText(clip(error?.cause || fallback, 2_000));
  let text: string | undefined;
  switch (notification.event) {
    case 'started': {
      const retryOf = retryOfDetail(detail);
      const asked = rollbackOfDetail(detail);
      if (!retryOf && !asked) return undefined;
      const lines = [
        ...(asked
          ? [
              `:rewind: Manual rollback of *${escapeSlackText(asked.stage)}* ${asked.fromTag ? `from ${code(asked.fromTag)} ` : ''}to ${tag}${asked.by ? `, asked by ${code(asked.by)}` : ''}: ${escapeSlackText(clip(asked.reason, 2_000))}. Only ${escapeSlackText(asked.stage)} changes.`,
            ]
          : []),
        ...(retryOf ? [`:repeat: This run is a retry of ${code(retryOf)}.`] : []),
      ];
      text = lines.join('\n');
      break;
    }
    case 'committed': {
      const commit = commitResultSchema.safeParse(detail).data;
      if (!commit) {
        text = `:memo: Committed ${tag} to ${where}.`;
      } else {
        const at = link(commitUrl(commit.commit), code(shortSha(commit.commit)));
        text =
          commit.status === 'unchanged'
            ? `:memo: ${where} already pins ${tag} (${at}); nothing to commit.`
            : `:memo: Committed ${tag} to ${where}: ${at}${commit.previousTag ? ` (was ${code(commit.previousTag)})` : ''}.`;
      }
      break;
    }
    case 'healthy': {
      const health = healthCheckResultSchema.safeParse(detail).data;
      const at = health?.revision
        ? ` at ${link(commitUrl(health.revision), code(shortSha(health.revision)))}`
        : '';
      const checks = health ? ` after ${health.attempt} check${health.attempt === 1 ? '' : 's'}` : '';
      text = `:white_check_mark: ${where} is Synced and Healthy${at}${checks}.`;
      break;
    }
    case 'approval-requested':
      text = rollback
        ? `:raised_hand: Approval requested to roll back ${where} to ${tag}.`
        : `:raised_hand: Approval requested to promote ${tag} to ${where}.`;
      break;
    case 'approved': {
      const fromDetail = approvalDecisionSchema.safeParse(detail).data;
      const who = decision ?? fromDetail;
      const by = who ? ` by ${who.via === 'slack' ? mention(who.by) : code(who.byName ?? who.by)}` : '';
      const why = who?.reason ? `: ${escapeSlackText(who.reason)}` : '';
      text = rollback
        ? `:+1: Rollback of ${where} to ${tag} approved${by}${why}.`
        : `:+1: Promotion of ${tag} to ${where} approved${by}${why}.`;
      break;
    }
    case 'rejected': {
      const by = decision
        ? ` by ${decision.via === 'slack' ? mention(decision.by) : code(decision.byName ?? decision.by)}`
        : '';
      const why = decision?.reason ? `: ${escapeSlackText(decision.reason)}` : error ? `: ${reason('')}` : '';
      text = `:no_entry: ${rollback ? `Rollback of ${where} to ${tag}` : `Promotion of ${tag} to ${where}`} rejected${by}${why}. The run ended \`Rejected\`.`;
      break;
    }
    case 'expired':
      text = rollback
        ? `:hourglass: Nobody approved the rollback of ${where} to ${tag} in time; the approval expired and the run ended \`Approval expired\`.`
        : `:hourglass: Nobody approved ${tag} for ${where} in time; the approval expired and the run ended \`Approval expired\`.`;
      break;
    case 'superseded': {
      const newer = supersededBy(error?.cause ?? '');
      text = `:fast_forward: ${tag} was not deployed to ${where}: ${newer ? `${code(newer)} is` : 'a newer release is'} already there. The run ended \`Superseded\`; nothing failed.`;
      break;
    }
    case 'deployed':
      text = rollback
        ? `:rewind: ${where} is rolled back to ${tag}, Synced and Healthy. Nothing else changed.`
        : `:tada: ${tag} is deployed to ${order.map((s) => `*${escapeSlackText(s)}*`).join(', ')}.`;
      break;
    case 'degraded':
      text = `:red_circle: ${where} is Degraded: ${reason(healthCheckResultSchema.safeParse(detail).data?.message ?? 'no message')}`;
      break;
    case 'timed-out':
      text = `:red_circle: ${where} did not become Synced and Healthy in time: ${reason(healthCheckResultSchema.safeParse(detail).data?.message ?? 'no message')}`;
      break;
    case 'rolling-back': {
      const rollback = rollbackProgressSchema.safeParse(detail).data;
      const to = rollback ? code(rollback.target.tag) : 'the earlier release';
      text = `:rewind: ${where} is not healthy on ${tag}: ${escapeSlackText(clip(rollback?.reason || 'no reason given', 2_000))}. Rolling back to ${to}.`;
      break;
    }
    case 'rolled-back': {
      const rollback = rollbackProgressSchema.safeParse(detail).data;
      text = rollback
        ? rolledBackReply(where, tag, rollback, commitUrl)
        : `:rewind: ${where} was rolled back from ${tag}. The run ended \`Rolled back\`.`;
      break;
    }
    case 'failed':
      text = `:red_circle: Release failed${stage ? ` in ${where}` : ''}: ${error ? `${code(error.error)} ${reason('')}` : 'no error detail'}`;
      break;
  }
  // A run that ends without deploying says what to do next (the same advice as `shiplane show`).
  const outcome = OUTCOME_OF[notification.event];
  const next = outcome
    ? nextStep({
        execution: notification.execution,
        app: release.app,
        outcome,
        error: error?.error,
        cause: error?.cause,
        stage,
      })
    : undefined;
  if (next) text = `${text}\n:point_right: Next: ${escapeSlackText(next.advice)}`;
  return clip(text, SLACK_LIMITS.sectionText);
}

/** `:rewind: *staging* rolled back to `v2.1.5` at <commit>: …` */
function rolledBackReply(
  where: string,
  tag: string,
  rollback: RollbackProgress,
  commitUrl: CommitLink,
): string {
  const sha = rollback.commit?.commit;
  const at = sha ? ` at ${link(commitUrl(sha), code(shortSha(sha)))}` : '';
  const why = escapeSlackText(clip(rollback.reason || 'no reason given', 2_000));
  return `:rewind: ${where} rolled back to ${code(rollback.target.tag)}${at}, Synced and Healthy again. ${tag} was taken out: ${why}. The run ended \`Rolled back\`.`;
}

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
    expired: 'approval expired',
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
    ...(notification.event === 'expired'
      ? ['Nobody approved the promotion before the approval timeout; the run ended "Approval expired".']
      : []),
    `Execution: ${notification.execution}`,
  ];
  return { subject, message: lines.join('\n') };
}
