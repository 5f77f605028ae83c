/**
 * The Slack interaction endpoint: a public URL that moves production. In order: verify Slack's
 * signature over the raw body (nothing else happens for a request that fails it), parse the
 * `block_actions` payload, check the clicking user is an approver, decide exactly once, and update
 * the approval message in place. Slack needs an HTTP 200 within 3 seconds; the decision itself is two
 * small AWS calls and every Slack call after it runs with a short timeout and no retries, so the
 * answer is an empty 200 (a `block_actions` ack has no body; `response_action` is for modals only).
 *
 * `team.id` and `api_app_id` are not checked: the signing secret belongs to this one Slack app, so a
 * valid signature already means "Slack, for this app". A person from another workspace who can see
 * the message (a Slack Connect channel) is refused like anyone else who is not an approver: user ids
 * are unique across workspaces, and approver groups are read from this app's own workspace. A replay
 * inside the window carries the same approval id (it is signed) and finds it decided.
 */

import {
  APPROVE_ACTION,
  approvalMessage,
  deciderLabel,
  REJECT_ACTION,
  slackDate,
  utcDateTime,
} from '../../adapters/slack/approval-message.js';
import { verifySlackSignature } from '../../adapters/slack/signature.js';
import { escapeSlackText } from '../../adapters/slack/slack-text.js';
import { type SlackApi, withOutageBreaker } from '../../adapters/slack/web-api.js';
import * as z from '../../contracts/zod.js';
import type { ApprovalRecord, ApprovalsStore } from '../../ports/approvals-store.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { RecentRunEvents, TaskTokens } from '../../ports/task-tokens.js';
import { approvalStateOf } from '../notify/notify.js';
import type { Authorize } from './authorize.js';
import { decideApproval } from './decide.js';

/** The HTTP request as API Gateway (HTTP API, payload 2.0) hands it over: lower-cased headers. */
export interface InteractionRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
}

export interface InteractionResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface InteractionDeps {
  /** Resolves the signing secret (cached by the secret resolver). */
  readonly signingSecret: () => Promise<string>;
  readonly slack: SlackApi;
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
  /** Of that budget, what is kept for the Slack update after the decision. @default 500 */
  readonly replyReserveMs?: number;
  /** A monotonic clock in milliseconds. @default performance.now */
  readonly elapsedClock?: () => number;
}

/** The parts of Slack's `block_actions` payload Shiplane reads; Slack sends more and may add fields. */
export const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({
    id: z.string().check(z.regex(/^[UW][A-Z0-9]+$/, 'expected a Slack user id')),
    username: z.optional(z.string()),
    name: z.optional(z.string()),
    team_id: z.optional(z.string()),
  }),
  api_app_id: z.optional(z.string()),
  container: z.object({
    type: z.string(),
    message_ts: z.optional(z.string()),
    channel_id: z.optional(z.string()),
    thread_ts: z.optional(z.string()),
  }),
  channel: z.optional(z.object({ id: z.string(), name: z.optional(z.string()) })),
  message: z.optional(z.looseObject({ ts: z.string(), thread_ts: z.optional(z.string()) })),
  actions: z
    .array(
      z.object({
        type: z.string(),
        action_id: z.string(),
        block_id: z.optional(z.string()),
        value: z.optional(z.string()),
        action_ts: z.optional(z.string()),
      }),
    )
    .check(z.minLength(1)),
});
export type BlockActionsPayload = z.infer<typeof blockActionsSchema>;

const respond = (statusCode: number): InteractionResponse => ({
  statusCode,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: '',
});

const when = (iso: string) => {
  const at = new Date(iso);
  return slackDate(at, '{date_short_pretty} at {time}', utcDateTime(at));
};

/** The ephemeral answer for a click that did not (or no longer could) decide anything. */
function refusalText(outcome: { kind: string; record?: ApprovalRecord }): string {
  const record = outcome.record;
  switch (outcome.kind) {
    case 'already-decided': {
      const decision = record?.decision;
      if (!record || !decision) return 'This approval was already decided.';
      return `This promotion was already ${record.status} by ${deciderLabel(decision)} ${when(decision.at)}. Nothing changed.`;
    }
    case 'expired':
      return `This approval expired${record?.closedAt ? ` ${when(record.closedAt)}` : ''}; nothing was decided. The run ended \`Approval expired\`.`;
    case 'superseded':
      return 'This approval request was superseded by a newer one in this thread; use that one. Nothing changed.';
    case 'unavailable':
      return 'Shiplane could not reach AWS Step Functions to record your decision, so nothing was decided. Please try again.';
    case 'unconfirmed':
      return 'The run no longer waits on this approval, and Shiplane could not confirm in time whether it received your decision (it may have: the release thread says what the run did). Click again to check; nothing else changes.';
    default:
      return 'Shiplane does not know this approval (it may be too old); nothing was decided.';
  }
}

function readBody(request: InteractionRequest): Buffer {
  const body = request.body ?? '';
  return request.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

export async function handleInteraction(
  request: InteractionRequest,
  deps: InteractionDeps,
): Promise<InteractionResponse> {
  const clock = deps.elapsedClock ?? (() => performance.now());
  const arrived = clock();
  const rawBody = readBody(request);
  const now = deps.now();
  const verdict = verifySlackSignature(
    await deps.signingSecret(),
    {
      timestamp: request.headers['x-slack-request-timestamp'],
      signature: request.headers['x-slack-signature'],
      rawBody,
    },
    Math.floor(now.getTime() / 1000),
  );
  if (!verdict.ok) {
    // The body is never logged: it is attacker-controlled and may be large.
    deps.reporter.warn('refused an interaction request that is not signed by Slack', {
      reason: verdict.reason,
      // Only a well-formed timestamp is logged: the header is attacker-controlled too.
      timestamp: /^\d{1,12}$/.test(request.headers['x-slack-request-timestamp'] ?? '')
        ? request.headers['x-slack-request-timestamp']
        : null,
      bodyBytes: rawBody.length,
    });
    deps.reporter.count('SlackSignatureRejected');
    return respond(401);
  }

  let payload: BlockActionsPayload;
  try {
    const form = new URLSearchParams(rawBody.toString('utf8'));
    const json: unknown = JSON.parse(form.get('payload') ?? '');
    if ((json as { type?: unknown } | null)?.type !== 'block_actions') {
      deps.reporter.info('ignored an interaction that is not a button click', {
        type: String((json as { type?: unknown } | null)?.type),
      });
      return respond(200);
    }
    payload = blockActionsSchema.parse(json);
  } catch (error) {
    deps.reporter.warn('refused a signed interaction whose payload is not a block_actions payload', {
      error: (error as Error).name,
    });
    return respond(400);
  }

  const action = payload.actions.find((a) => a.action_id === APPROVE_ACTION || a.action_id === REJECT_ACTION);
  if (!action?.value) return respond(200);
  const channel = payload.channel?.id ?? payload.container.channel_id;
  const threadTs = payload.message?.thread_ts ?? payload.container.thread_ts;
  const user = payload.user;
  // One Slack timeout is all a click may spend; after it the other calls fail at once.
  const slack = withOutageBreaker(deps.slack);
  const tell = async (text: string) => {
    if (!channel) return;
    try {
      await slack.postEphemeral({ channel, user: user.id, text, ...(threadTs ? { threadTs } : {}) });
    } catch (error) {
      deps.reporter.warn('could not send an ephemeral answer', errorAttributes(error));
      deps.reporter.count('SlackNotificationFailed');
    }
  };
  const refresh = async (record: ApprovalRecord) => {
    const state = approvalStateOf(record);
    const target =
      record.message ??
      (channel && payload.container.message_ts ? { channel, ts: payload.container.message_ts } : undefined);
    if (!state || !target) return;
    try {
      await slack.updateMessage({ ...target, ...approvalMessage(record.facts, state) });
    } catch (error) {
      deps.reporter.warn('could not update the approval message', errorAttributes(error));
      deps.reporter.count('SlackNotificationFailed');
      await tell(`Recorded: ${record.status}. (The approval message could not be updated.)`);
    }
  };

  const approvalId = action.value;
  const byName = user.username ?? user.name;
  const context = { approvalId, user: user.id, action: action.action_id };
  try {
    const record = await deps.store.getApproval(approvalId);
    if (!record) {
      await tell(refusalText({ kind: 'not-found' }));
      return respond(200);
    }
    const allowed = await deps.authorize(user.id, record.approvers);
    if (!allowed.allowed) {
      deps.reporter.warn('refused a click by someone who is not an approver', {
        ...context,
        reason: allowed.reason,
      });
      await tell(
        allowed.reason === 'not-listed'
          ? `You are not an approver for ${escapeSlackText(record.stage)}. Nothing changed.`
          : `Shiplane could not check whether you are in an approver group for ${escapeSlackText(record.stage)} (Slack did not answer), so nothing was decided. Please try again in a minute.`,
      );
      return respond(200);
    }
    const budget = (deps.ackBudgetMs ?? 2_700) - (deps.replyReserveMs ?? 500);
    const outcome = await decideApproval(
      {
        approvalId,
        decision: action.action_id === APPROVE_ACTION ? 'approved' : 'rejected',
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
        await Promise.all([refresh(outcome.record), tell(refusalText(outcome))]);
        break;
      default:
        await tell(refusalText(outcome));
    }
  } catch (error) {
    deps.reporter.error('an approval click failed', { ...context, ...errorAttributes(error) });
    deps.reporter.count('ApprovalInteractionFailed');
    await tell('Shiplane could not process your click, so nothing was decided. Please try again.');
  }
  return respond(200);
}
