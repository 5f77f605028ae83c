/**
 * The interaction endpoint: a public URL that moves production. In order: the chat authenticates
 * the request (nothing else happens for one that fails) and says what was clicked, the clicking user
 * must be an approver, the decision is made exactly once, and the approval message is redrawn in
 * place. Slack needs an HTTP 200 within 3 seconds; the decision itself is two small AWS calls and
 * every chat call after it runs with a short timeout and no retries, so the answer is an empty 200
 * (a `block_actions` ack has no body; `response_action` is for modals only).
 */
import type { ApprovalRecord, ApprovalsStore } from '../../ports/approvals-store.js';
import type { Chat, ChatInteractions, ChatNotice, InteractionRequest } from '../../ports/chat.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { RecentRunEvents, TaskTokens } from '../../ports/task-tokens.js';
import { approvalStateOf } from '../notify/notify.js';
import type { Authorize } from './authorize.js';
import { decideApproval } from './decide.js';

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
      deps.reporter.warn('refused a signed interaction whose payload is not a block_actions payload', {
        error: reading.error,
      });
      return respond(400);
    case 'ignored':
      if (reading.type !== undefined) {
        deps.reporter.info('ignored an interaction that is not a button click', { type: reading.type });
      }
      return respond(200);
  }

  const { click } = reading;
  const { channel, threadTs, user } = click;
  // One chat timeout is all a click may spend; after it the other calls fail at once.
  const chat = deps.chat.session();
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
      record.message ?? (channel && click.messageTs ? { channel, ts: click.messageTs } : undefined);
    if (!state || !target) return;
    try {
      await chat.updateApproval({ ...target, facts: record.facts, state });
    } catch (error) {
      deps.reporter.warn('could not update the approval message', errorAttributes(error));
      deps.reporter.count('SlackNotificationFailed');
      await tell({ kind: 'recorded', status: record.status });
    }
  };

  const { approvalId } = click;
  const byName = user.name;
  const context = { approvalId, user: user.id, decision: click.decision };
  try {
    const record = await deps.store.getApproval(approvalId);
    if (!record) {
      await tell({ kind: 'not-found' });
      return respond(200);
    }
    const allowed = await deps.authorize(user.id, record.approvers);
    if (!allowed.allowed) {
      deps.reporter.warn('refused a click by someone who is not an approver', {
        ...context,
        reason: allowed.reason,
      });
      await tell({
        kind: allowed.reason === 'not-listed' ? 'not-an-approver' : 'approvers-unavailable',
        stage: record.stage,
      });
      return respond(200);
    }
    const budget = (deps.ackBudgetMs ?? 2_700) - (deps.replyReserveMs ?? 500);
    const outcome = await decideApproval(
      {
        approvalId,
        decision: click.decision,
        by: user.id,
        ...(byName ? { byName } : {}),
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
        await refresh(outcome.record);
        break;
      case 'already-decided':
      case 'expired':
      case 'superseded':
        // Also repairs a message whose earlier update failed; the ephemeral says why nothing happened.
        await Promise.all([refresh(outcome.record), tell(refusal(outcome))]);
        break;
      default:
        await tell(refusal(outcome));
    }
  } catch (error) {
    deps.reporter.error('an approval click failed', { ...context, ...errorAttributes(error) });
    deps.reporter.count('ApprovalInteractionFailed');
    await tell({ kind: 'click-failed' });
  }
  return respond(200);
}
