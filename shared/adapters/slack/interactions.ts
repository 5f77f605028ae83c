/**
 * Slack's side of an approval click: verify Slack's signature over the raw body (nothing else is
 * read from a request that fails it), then read the `block_actions` payload and find the Approve or
 * Reject button that was clicked.
 *
 * `team.id` and `api_app_id` are not checked: the signing secret belongs to this one Slack app, so a
 * valid signature already means "Slack, for this app". A person from another workspace who can see
 * the message (a Slack Connect channel) is refused like anyone else who is not an approver: user ids
 * are unique across workspaces, and approver groups are read from this app's own workspace. A replay
 * inside the window carries the same approval id (it is signed) and finds it decided.
 */
import * as z from '../../contracts/zod.js';
import type {
  ApprovalClick,
  ChatInteractions,
  InteractionReading,
  InteractionRequest,
} from '../../ports/chat.js';
import { APPROVE_ACTION, BREAK_GLASS_ACTION, REJECT_ACTION } from './approval-message.js';
import { noticeText } from './chat.js';
import {
  REASON_ACTION_ID,
  REASON_BLOCK_ID,
  REASON_CALLBACK_ID,
  reasonErrors,
  reasonMetadataSchema,
  reasonRefusalText,
} from './reason-modal.js';
import { verifySlackSignature } from './signature.js';

/** The buttons the endpoint reads, and what each asks for; any other `action_id` is ignored. */
const DECISION_OF_ACTION: Readonly<Record<string, ApprovalClick['decision']>> = {
  [APPROVE_ACTION]: 'approved',
  [REJECT_ACTION]: 'rejected',
  [BREAK_GLASS_ACTION]: 'break-glass',
};

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
  trigger_id: z.optional(z.string().check(z.maxLength(200))),
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

/**
 * The parts of a `view_submission` Shiplane reads: who submitted which of its views, and the reason
 * typed into it. Only the reason modal is read; `private_metadata` must be exactly what
 * reason-modal.ts wrote (it is re-checked against the approvals table all the same).
 */
export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: blockActionsSchema.shape.user,
  view: z.object({
    id: z.string(),
    type: z.literal('modal'),
    callback_id: z.string(),
    private_metadata: z.string().check(z.maxLength(3_000)),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(z.string(), z.object({ type: z.string(), value: z.optional(z.nullable(z.string())) })),
      ),
    }),
  }),
});

function readBody(request: InteractionRequest): Buffer {
  const body = request.body ?? '';
  return request.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

export interface SlackInteractionsOptions {
  /** Resolves the signing secret (cached by the secret resolver). */
  readonly signingSecret: () => Promise<string>;
}

/** Reads Slack's interaction requests for the app whose signing secret is given. */
export function slackInteractions(options: SlackInteractionsOptions): ChatInteractions {
  return {
    async read(request, now): Promise<InteractionReading> {
      const rawBody = readBody(request);
      const verdict = verifySlackSignature(
        await options.signingSecret(),
        {
          timestamp: request.headers['x-slack-request-timestamp'],
          signature: request.headers['x-slack-signature'],
          rawBody,
        },
        Math.floor(now.getTime() / 1000),
      );
      if (!verdict.ok) {
        const timestamp = request.headers['x-slack-request-timestamp'] ?? '';
        return {
          kind: 'unauthenticated',
          reason: verdict.reason,
          // Only a well-formed timestamp is passed on: the header is attacker-controlled.
          timestamp: /^\d{1,12}$/.test(timestamp) ? timestamp : null,
          bodyBytes: rawBody.length,
        };
      }

      let payload: BlockActionsPayload;
      try {
        const form = new URLSearchParams(rawBody.toString('utf8'));
        const json: unknown = JSON.parse(form.get('payload') ?? '');
        const type = (json as { type?: unknown } | null)?.type;
        if (type === 'view_submission') return readSubmission(viewSubmissionSchema.parse(json));
        if (type !== 'block_actions') return { kind: 'ignored', type: String(type) };
        payload = blockActionsSchema.parse(json);
      } catch (error) {
        return { kind: 'malformed', error: (error as Error).name };
      }

      const action = payload.actions.find((a) => Object.hasOwn(DECISION_OF_ACTION, a.action_id));
      if (!action?.value) return { kind: 'ignored' };
      const channel = payload.channel?.id ?? payload.container.channel_id;
      const threadTs = payload.message?.thread_ts ?? payload.container.thread_ts;
      const messageTs = payload.container.message_ts;
      const name = payload.user.username ?? payload.user.name;
      return {
        kind: 'click',
        click: {
          approvalId: action.value,
          decision: DECISION_OF_ACTION[action.action_id] as ApprovalClick['decision'],
          user: { id: payload.user.id, ...(name ? { name } : {}) },
          ...(channel ? { channel } : {}),
          ...(threadTs ? { threadTs } : {}),
          ...(messageTs ? { messageTs } : {}),
          ...(payload.trigger_id ? { trigger: payload.trigger_id } : {}),
        },
      };
    },
    reasonRefused: (refusal) => reasonErrors(reasonRefusalText(refusal, noticeText)),
  };
}

/** The reason modal's submission, or `ignored` for another view; throws when it is not well-formed. */
function readSubmission(payload: z.infer<typeof viewSubmissionSchema>): InteractionReading {
  const { view } = payload;
  if (view.callback_id !== REASON_CALLBACK_ID) return { kind: 'ignored', type: 'view_submission' };
  const { approvalId, channel, threadTs, messageTs, purpose } = reasonMetadataSchema.parse(
    JSON.parse(view.private_metadata),
  );
  const target = {
    approvalId,
    ...(purpose ? { purpose } : {}),
    ...(channel ? { channel } : {}),
    ...(threadTs ? { threadTs } : {}),
    ...(messageTs ? { messageTs } : {}),
  };
  const field = view.state.values[REASON_BLOCK_ID]?.[REASON_ACTION_ID];
  if (field?.type !== 'plain_text_input') {
    throw new SyntaxError('the reason modal was submitted without its reason field');
  }
  const name = payload.user.username ?? payload.user.name;
  return {
    kind: 'reason',
    submission: {
      target,
      user: { id: payload.user.id, ...(name ? { name } : {}) },
      reason: field.value ?? '',
    },
  };
}
