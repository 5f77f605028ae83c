/**
 * The interaction endpoint: a public URL that moves production. In order: the chat authenticates
 * the request (nothing else happens for one that fails) and says what was clicked, the clicking user
 * must be an approver, the decision is made exactly once, and the approval message is redrawn in
 * place. Slack needs an HTTP 200 within 3 seconds; the decision itself is two small AWS calls and
 * every chat call after it runs with a short timeout and no retries, so the answer is an empty 200
 * (a `block_actions` ack has no body; `response_action` is for modals only).
 *
 * Approve decides on the click. Reject first asks why: the click opens a modal (its trigger lasts
 * 3 s, so that is the click's first chat call), and the modal's submission comes back here as a
 * `reason`. The modal only points at the approval: the submission re-reads it and authorizes the
 * user again before the same exactly-once decision, now with the reason.
 *
 * During a change freeze of the approval's stage, Approve is refused; Break glass opens the same
 * modal (purpose `break-glass`) and its submission approves with the reason, recorded as a break glass.
 */
import type { FreezeWindowConfig } from '../../config/freeze.js';
import { type BreakGlass, checkedDecisionReason } from '../../domain/approval.js';
import type { ApprovalRecord, ApprovalsStore } from '../../ports/approvals-store.js';
import type {
  ApprovalClick,
  Chat,
  ChatInteractions,
  ChatNotice,
  InteractionRequest,
  ReasonSubmission,
} from '../../ports/chat.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { RecentRunEvents, TaskTokens } from '../../ports/task-tokens.js';
import { approvalStateOf } from '../notify/notify.js';
import type { AuthorizationVerdict, Authorize } from './authorize.js';
import { decideApproval } from './decide.js';
import { freezeToBreak } from './freeze-rule.js';

export interface InteractionResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface InteractionDeps {
  /** Authenticates and reads the chat's requests. */
  readonly interactions: ChatInteractions;
  readonly chat: Chat;
  readonly store: ApprovalsStore;
  readonly taskTokens: TaskTokens;
  readonly authorize: Authorize;
  /**
   * The stage's approvers as the deployed config lists them now (`undefined`: it no longer asks for
   * approval). A decision needs the user in these and in the approval's own list, so someone dropped
   * from the config cannot decide a request made before (an approval waits up to its timeout, 24h by
   * default). Without it, the approval's own list decides alone.
   */
  readonly currentApprovers?: (stage: string) => readonly string[] | undefined;
  readonly now: () => Date;
  readonly reporter: Reporter;
  /** The run's newest history events, to see what it did when Step Functions answered ambiguously. */
  readonly runEvents?: RecentRunEvents;
  /**
   * Slack waits 3 s for the HTTP answer; the work of a click is planned to end within this many
   * milliseconds of its arrival. @default 2_700
   */
  readonly ackBudgetMs?: number;
  /** Of that budget, what is kept for the chat update after the decision. @default 500 */
  readonly replyReserveMs?: number;
  /** A monotonic clock in milliseconds. @default performance.now */
  readonly elapsedClock?: () => number;
  /** A stage's change-freeze windows (the config's); none, and Approve is never refused for a freeze. */
  readonly freezeWindows?: (stage: string) => readonly FreezeWindowConfig[] | undefined;
}

/** The freeze an approval would break now (freeze-rule.ts), with the deployed config's windows. */
function freezeNow(record: ApprovalRecord, deps: InteractionDeps): BreakGlass | undefined {
  return freezeToBreak(record, deps.freezeWindows?.(record.stage), deps.now());
}

const respond = (statusCode: number): InteractionResponse => ({
  statusCode,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: '',
});

/** The notice for a click that did not (or no longer could) decide anything. */
function refusal(outcome: { kind: string; record?: ApprovalRecord }): ChatNotice {
  const record = outcome.record;
  switch (outcome.kind) {
    case 'already-decided':
      return {
        kind: 'already-decided',
        ...(record ? { status: record.status } : {}),
        ...(record?.decision ? { decision: record.decision } : {}),
      };
    case 'expired':
      return { kind: 'expired', ...(record?.closedAt ? { closedAt: record.closedAt } : {}) };
    case 'superseded':
    case 'unavailable':
    case 'unconfirmed':
      return { kind: outcome.kind };
    default:
      return { kind: 'not-found' };
  }
}

export async function handleInteraction(
  request: InteractionRequest,
  deps: InteractionDeps,
): Promise<InteractionResponse> {
  const clock = deps.elapsedClock ?? (() => performance.now());
  const arrived = clock();
  const now = deps.now();
  const reading = await deps.interactions.read(request, now);
  switch (reading.kind) {
    case 'unauthenticated':
      // The body is never logged: it is attacker-controlled and may be large.
      deps.reporter.warn('refused an interaction request that is not signed by Slack', {
        reason: reading.reason,
        timestamp: reading.timestamp,
        bodyBytes: reading.bodyBytes,
      });
      deps.reporter.count('SlackSignatureRejected');
      return respond(401);
    case 'malformed':
      deps.reporter.warn(
        'refused a signed interaction whose payload is not a click or reason Shiplane reads',
        {
          error: reading.error,
        },
      );
      return respond(400);
    case 'ignored':
      if (reading.type !== undefined) {
        deps.reporter.info('ignored an interaction that is not a button click', { type: reading.type });
      }
      return respond(200);
  }

  if (reading.kind === 'reason') return handleReason(reading.submission, deps, clock, arrived);
  const { click } = reading;
  const where = {
    user: click.user,
    ...(click.channel ? { channel: click.channel } : {}),
    ...(click.threadTs ? { threadTs: click.threadTs } : {}),
    ...(click.messageTs ? { messageTs: click.messageTs } : {}),
  };
  const talk = chatFor(where, deps);
  const context = { approvalId: click.approvalId, user: click.user.id, decision: click.decision };
  try {
    const record = await checkedApproval(click.approvalId, where, deps, talk, context);
    if (!record) return respond(200);
    if (click.decision === 'rejected') {
      // Reject asks why first: a modal, whose submission comes back here and decides (handleReason).
      await askReason(click, record, deps, talk);
      return respond(200);
    }
    const frozen = freezeNow(record, deps);
    if (click.decision === 'break-glass') {
      // Break glass asks why too; a stage that is not frozen has nothing to break.
      if (frozen) await askReason(click, record, deps, talk, frozen);
      else if (!(await toldClosed(record, deps, talk)))
        await talk.tell({ kind: 'not-frozen', stage: record.stage });
      return respond(200);
    }
    if (frozen && !closedOutcome(record, deps.now())) {
      deps.reporter.warn('refused an approval during a change freeze without break glass', {
        ...context,
        until: frozen.until,
      });
      await talk.tell({ kind: 'frozen', notice: frozen.freeze });
      return respond(200);
    }
    await decide(record, where, { decision: 'approved' }, deps, talk, clock, arrived);
  } catch (error) {
    deps.reporter.error('an approval click failed', { ...context, ...errorAttributes(error) });
    deps.reporter.count('ApprovalInteractionFailed');
    await talk.tell({ kind: 'click-failed' });
  }
  return respond(200);
}

/** Who acted and where: the notices go there, and the message there is redrawn when the record has none. */
interface Where {
  readonly user: { readonly id: string; readonly name?: string };
  readonly channel?: string;
  readonly threadTs?: string;
  readonly messageTs?: string;
}

interface Talk {
  /** The chat for this one interaction (Chat.session()). */
  readonly chat: Chat;
  tell(notice: ChatNotice): Promise<void>;
  refresh(record: ApprovalRecord): Promise<void>;
}

/** The chat calls an interaction makes, each failure reported and swallowed (the decision stands). */
function chatFor(where: Where, deps: InteractionDeps): Talk {
  // One chat timeout is all an interaction may spend; after it the other calls fail at once.
  const chat = deps.chat.session();
  const { channel, threadTs, user } = where;
  const tell = async (notice: ChatNotice) => {
    if (!channel) return;
    try {
      await chat.tell({ channel, user: user.id, notice, ...(threadTs ? { threadTs } : {}) });
    } catch (error) {
      deps.reporter.warn('could not send an ephemeral answer', errorAttributes(error));
      deps.reporter.count('SlackNotificationFailed');
    }
  };
  const refresh = async (record: ApprovalRecord) => {
    const state = approvalStateOf(record);
    const target =
      record.message ?? (channel && where.messageTs ? { channel, ts: where.messageTs } : undefined);
    if (!state || !target) return;
    try {
      await chat.updateApproval({ ...target, facts: record.facts, state });
    } catch (error) {
      deps.reporter.warn('could not update the approval message', errorAttributes(error));
      deps.reporter.count('SlackNotificationFailed');
      await tell({ kind: 'recorded', status: record.status });
    }
  };
  return { chat, tell, refresh };
}

/**
 * The approval, when it exists and the user may decide it; otherwise the user is told why not and
 * the answer is undefined. Used for a click and again for a reason submission: the modal's pointer
 * to the approval is never trusted on its own.
 */
async function checkedApproval(
  approvalId: string,
  where: Where,
  deps: InteractionDeps,
  talk: Talk,
  context: Record<string, string>,
): Promise<ApprovalRecord | undefined> {
  const record = await deps.store.getApproval(approvalId);
  if (!record) {
    await talk.tell({ kind: 'not-found' });
    return undefined;
  }
  const allowed = await authorizeNow(where.user.id, record, deps);
  if (!allowed.allowed) {
    deps.reporter.warn('refused a click by someone who is not an approver', {
      ...context,
      reason: allowed.reason,
    });
    await talk.tell({
      kind: allowed.reason === 'not-listed' ? 'not-an-approver' : 'approvers-unavailable',
      stage: record.stage,
    });
    return undefined;
  }
  return record;
}

/** Whether the user may decide the approval: listed when it was asked, and still listed in the config. */
async function authorizeNow(
  userId: string,
  record: ApprovalRecord,
  deps: InteractionDeps,
): Promise<AuthorizationVerdict> {
  const asked = await deps.authorize(userId, record.approvers);
  if (!asked.allowed || !deps.currentApprovers) return asked;
  return deps.authorize(userId, deps.currentApprovers(record.stage) ?? []);
}

/** Why an approval can no longer be decided, or undefined while it can. */
function closedOutcome(
  record: ApprovalRecord,
  now: Date,
): { kind: string; record: ApprovalRecord } | undefined {
  switch (record.status) {
    case 'approved':
    case 'rejected':
      return { kind: 'already-decided', record };
    case 'expired':
    case 'superseded':
      return { kind: record.status, record };
    case 'pending':
      return record.deadline <= Math.floor(now.getTime() / 1000) ? { kind: 'expired', record } : undefined;
  }
}

/** Says why a closed approval cannot be decided (and redraws it); false while it is open. */
async function toldClosed(record: ApprovalRecord, deps: InteractionDeps, talk: Talk): Promise<boolean> {
  const closed = closedOutcome(record, deps.now());
  if (!closed) return false;
  await Promise.all([talk.refresh(record), talk.tell(refusal(closed))]);
  return true;
}

/**
 * Opens the reason modal for a Reject or Break glass click (`breaking`: the freeze it breaks); when it
 * cannot be opened, nothing is decided and the user is told.
 */
async function askReason(
  click: ApprovalClick,
  record: ApprovalRecord,
  deps: InteractionDeps,
  talk: Talk,
  breaking?: BreakGlass,
): Promise<void> {
  if (await toldClosed(record, deps, talk)) return;
  const context = { approvalId: record.approvalId, user: click.user.id };
  if (!click.trigger) {
    deps.reporter.warn('a Reject click came without a trigger to open the reason dialog', context);
    await talk.tell({ kind: 'reason-dialog-failed' });
    return;
  }
  try {
    // The trigger lasts 3 seconds from the click: this is the first chat call the click makes.
    await talk.chat.askReason({
      trigger: click.trigger,
      target: {
        approvalId: record.approvalId,
        ...(breaking ? { purpose: 'break-glass' as const } : {}),
        ...(click.channel ? { channel: click.channel } : {}),
        ...(click.threadTs ? { threadTs: click.threadTs } : {}),
        ...(click.messageTs ? { messageTs: click.messageTs } : {}),
      },
      facts: record.facts,
      ...(breaking ? { freeze: breaking.freeze } : {}),
    });
    deps.reporter.info(
      breaking ? 'asked for the reason of a break glass' : 'asked for the reason of a rejection',
      context,
    );
  } catch (error) {
    deps.reporter.warn('could not open the reason dialog; nothing was decided', {
      ...context,
      ...errorAttributes(error),
    });
    deps.reporter.count('SlackNotificationFailed');
    await talk.tell({ kind: 'reason-dialog-failed' });
  }
}

/** Notices after which trying again may work: the modal stays open with the reason typed. */
const RETRYABLE = new Set<ChatNotice['kind']>(['unavailable', 'approvers-unavailable', 'click-failed']);

const respondJson = (body: Record<string, unknown>): InteractionResponse => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

/**
 * A submitted reason: checked, then the same path as a click, with the approval re-read and the user
 * authorized again. An empty 200 closes the modal; a refusal that may pass later keeps it open.
 */
async function handleReason(
  submission: ReasonSubmission,
  deps: InteractionDeps,
  clock: () => number,
  arrived: number,
): Promise<InteractionResponse> {
  const breakGlass = submission.target.purpose === 'break-glass';
  // A break glass needs a reason as much as a rejection does: the same rule.
  const checked = checkedDecisionReason('rejected', submission.reason);
  if ('problem' in checked) {
    const { problem } = checked;
    return respondJson(
      deps.interactions.reasonRefused(
        problem.kind === 'empty'
          ? { kind: 'empty', ...(breakGlass ? { purpose: 'break-glass' } : {}) }
          : { kind: 'too-long', max: problem.max },
      ),
    );
  }
  const { reason } = checked;
  const { target, user } = submission;
  const where: Where = {
    user,
    ...(target.channel ? { channel: target.channel } : {}),
    ...(target.threadTs ? { threadTs: target.threadTs } : {}),
    ...(target.messageTs ? { messageTs: target.messageTs } : {}),
  };
  const told: ChatNotice[] = [];
  const chatTalk = chatFor(where, deps);
  // Notices that may pass on a second try go to the modal instead of the channel.
  const talk: Talk = {
    ...chatTalk,
    tell: async (notice) => {
      if (RETRYABLE.has(notice.kind)) told.push(notice);
      else await chatTalk.tell(notice);
    },
  };
  const context = {
    approvalId: target.approvalId,
    user: user.id,
    decision: breakGlass ? 'break-glass' : 'rejected',
  };
  try {
    const record = await checkedApproval(target.approvalId, where, deps, talk, context);
    if (record && breakGlass) {
      // Frozen or not by now, the approval carries the reason; it is a break glass only while frozen.
      const frozen = freezeNow(record, deps);
      if (frozen)
        deps.reporter.warn('break glass: approving during a change freeze', {
          ...context,
          until: frozen.until,
        });
      await decide(
        record,
        where,
        { decision: 'approved', reason, ...(frozen ? { breakGlass: frozen } : {}) },
        deps,
        talk,
        clock,
        arrived,
      );
    } else if (record) {
      await decide(record, where, { decision: 'rejected', reason }, deps, talk, clock, arrived);
    }
  } catch (error) {
    deps.reporter.error('a decision with a reason failed', { ...context, ...errorAttributes(error) });
    deps.reporter.count('ApprovalInteractionFailed');
    told.push({ kind: 'click-failed' });
  }
  const retry = told[0];
  return retry
    ? respondJson(deps.interactions.reasonRefused({ kind: 'retry', notice: retry }))
    : respond(200);
}

/** Decides on the one exactly-once path, then redraws the message or says why nothing happened. */
async function decide(
  record: ApprovalRecord,
  where: Where,
  choice: {
    readonly decision: 'approved' | 'rejected';
    readonly reason?: string;
    readonly breakGlass?: BreakGlass;
  },
  deps: InteractionDeps,
  talk: Talk,
  clock: () => number,
  arrived: number,
): Promise<void> {
  const budget = (deps.ackBudgetMs ?? 2_700) - (deps.replyReserveMs ?? 500);
  const byName = where.user.name;
  const outcome = await decideApproval(
    {
      approvalId: record.approvalId,
      decision: choice.decision,
      by: where.user.id,
      ...(byName ? { byName } : {}),
      ...(choice.reason ? { reason: choice.reason } : {}),
      ...(choice.breakGlass ? { breakGlass: choice.breakGlass } : {}),
      via: 'slack',
    },
    {
      ...deps,
      // The history is read only with the time left before Slack's answer is due (a click whose
      // SendTaskSuccess timed out has little); without time the click is `unconfirmed`, not expired.
      runEventsTimeoutMs: () => Math.floor(budget - (clock() - arrived)),
    },
  );
  switch (outcome.kind) {
    case 'decided':
      await talk.refresh(outcome.record);
      break;
    case 'already-decided':
    case 'expired':
    case 'superseded':
      // Also repairs a message whose earlier update failed; the ephemeral says why nothing happened.
      await Promise.all([talk.refresh(outcome.record), talk.tell(refusal(outcome))]);
      break;
    default:
      await talk.tell(refusal(outcome));
  }
}
