/**
 * The release thread in Slack: a parent message that always shows where the release is in every
 * stage (updated in place) and a reply per event, drawn from the thread's state
 * (shared/domain/release-thread.ts). Every value Shiplane did not write itself is escaped.
 */
import { freezeStatusSchema } from '../../contracts/freeze.js';
import {
  approvalDecisionSchema,
  commitResultSchema,
  ERRORS,
  healthCheckResultSchema,
  type Notification,
  pullRequestAnswerSchema,
  type RollbackProgress,
  type RunOutcome,
  rollbackProgressSchema,
  scanGateResultSchema,
} from '../../contracts/tasks.js';
import { nextStep } from '../../domain/next-step.js';
import {
  type CommitLink,
  type DecisionView,
  OUTCOME_OF,
  retryOfDetail,
  rollbackOfDetail,
  runErrorOf,
  type StageStatus,
  stageOfEvent,
  type ThreadState,
} from '../../domain/release-thread.js';
import { supersededBy } from '../../domain/superseded.js';
import { clip } from '../../domain/text.js';
import {
  mrkdwn,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  utcDateTime,
  utcTime,
} from './approval-message.js';
import { findingLines } from './scan-findings-text.js';
import { code, escapeSlackText, link, mention, slackDate } from './slack-text.js';

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
  frozen: ':ice_cube: frozen',
};

const OUTCOME_TITLE: Record<RunOutcome | 'running', string> = {
  running: ':rocket: Releasing',
  deployed: ':tada: Deployed',
  rejected: ':no_entry: Rejected',
  expired: ':hourglass: Approval expired for',
  superseded: ':fast_forward: Superseded',
  blocked: ':no_entry_sign: Blocked by the scan gate:',
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
  blocked: ':no_entry_sign: Rollback blocked:',
  'rolled-back': ':rewind: Rolled back',
  failed: ':red_circle: Rollback failed:',
};

const shortSha = (sha: string) => sha.slice(0, 7);

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
      ? ` at ${link(commitUrl(progress.commit, { app: release.app, stage: name }), code(shortSha(progress.commit)))}`
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
  // Links into the repository this stage's commit for the app went to; none without a stage.
  const linkOf = (sha: string) => (stage ? commitUrl(sha, { app: release.app, stage }) : undefined);
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
        const at = link(linkOf(commit.commit), code(shortSha(commit.commit)));
        const was = commit.previousTag ? ` (was ${code(commit.previousTag)})` : '';
        const pull = commit.pullRequest ? link(commit.pullRequestUrl, `#${commit.pullRequest}`) : undefined;
        text =
          commit.status === 'unchanged'
            ? `:memo: ${where} already pins ${tag} (${at}); nothing to commit.`
            : pull
              ? `:memo: Pull request ${pull} merged${commit.mergedBy ? ` by ${code(commit.mergedBy)}` : ' by Shiplane'}: ${tag} is in ${where} at ${at}${was}.`
              : `:memo: Committed ${tag} to ${where}: ${at}${was}.`;
      }
      break;
    }
    case 'healthy': {
      const health = healthCheckResultSchema.safeParse(detail).data;
      const at = health?.revision
        ? ` at ${link(linkOf(health.revision), code(shortSha(health.revision)))}`
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
      const glass = who?.breakGlass
        ? ` :rotating_light: Break glass: approved during the change freeze (${escapeSlackText(who.breakGlass.freeze)})`
        : '';
      text = rollback
        ? `:+1: Rollback of ${where} to ${tag} approved${by}${why}.`
        : `:+1: Promotion of ${tag} to ${where} approved${by}${why}.${glass}`;
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
      text =
        error?.error === ERRORS.pullRequestExpired
          ? `:hourglass: ${reason('the pull request was not merged in time')}. The run ended \`expired\`.`
          : rollback
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
        ? rolledBackReply(where, tag, rollback, linkOf)
        : `:rewind: ${where} was rolled back from ${tag}. The run ended \`Rolled back\`.`;
      break;
    }
    case 'blocked': {
      const gate = scanGateResultSchema.safeParse(detail).data;
      const head = `:no_entry_sign: ${tag} was not released: the scan gate blocked it (${escapeSlackText(clip(gate?.reason ?? 'no reason given', 500))}). Nothing was committed; the run ended \`Blocked\`.`;
      // What is left of the section once the head and the next-step line (at most ~600) are in.
      const budget = SLACK_LIMITS.sectionText - head.length - 700;
      text = [head, ...(gate ? findingLines(gate.findings, gate.total, budget) : [])].join('\n');
      break;
    }
    case 'frozen': {
      const freeze = freezeStatusSchema.safeParse(detail).data;
      const notice = freeze?.status === 'frozen' ? freeze.notice : `${stage ?? 'the stage'} is frozen`;
      text = `:ice_cube: ${escapeSlackText(clip(notice, 2_000))}. The run waits until then, checks again and goes on.`;
      break;
    }
    case 'pull-request': {
      const answer = pullRequestAnswerSchema.safeParse(detail).data;
      if (answer?.state !== 'open' || !answer.number) return undefined;
      const pull = link(answer.url, `#${answer.number}`);
      // The automatic rollback of a Degraded stage proposes on a branch of its own.
      const automatic = answer.branch?.includes('/rollback/') === true;
      const what = rollback
        ? `roll back ${where} to ${tag}`
        : automatic
          ? `roll back ${where} from ${tag}`
          : `promote ${tag} to ${where}`;
      const who =
        answer.merge === 'manual'
          ? rollback || automatic
            ? ' The recovery waits for a person to merge it.'
            : ' It waits for a person to merge it.'
          : ' Shiplane merges it once GitHub allows (required reviews and checks).';
      text = `:twisted_rightwards_arrows: Pull request ${pull} opened to ${what}.${who}`;
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
  linkOf: (sha: string) => string | undefined,
): string {
  const sha = rollback.commit?.commit;
  const at = sha ? ` at ${link(linkOf(sha), code(shortSha(sha)))}` : '';
  const why = escapeSlackText(clip(rollback.reason || 'no reason given', 2_000));
  return `:rewind: ${where} rolled back to ${code(rollback.target.tag)}${at}, Synced and Healthy again. ${tag} was taken out: ${why}. The run ended \`Rolled back\`.`;
}
