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
import type { ChatInteractions, InteractionReading, InteractionRequest } from '../../ports/chat.js';
import { APPROVE_ACTION, REJECT_ACTION } from './approval-message.js';
import { verifySlackSignature } from './signature.js';

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
        if ((json as { type?: unknown } | null)?.type !== 'block_actions') {
          return { kind: 'ignored', type: String((json as { type?: unknown } | null)?.type) };
        }
        payload = blockActionsSchema.parse(json);
      } catch (error) {
        return { kind: 'malformed', error: (error as Error).name };
      }

      const action = payload.actions.find(
        (a) => a.action_id === APPROVE_ACTION || a.action_id === REJECT_ACTION,
      );
      if (!action?.value) return { kind: 'ignored' };
      const channel = payload.channel?.id ?? payload.container.channel_id;
      const threadTs = payload.message?.thread_ts ?? payload.container.thread_ts;
      const messageTs = payload.container.message_ts;
      const name = payload.user.username ?? payload.user.name;
      return {
        kind: 'click',
        click: {
          approvalId: action.value,
          decision: action.action_id === APPROVE_ACTION ? 'approved' : 'rejected',
          user: { id: payload.user.id, ...(name ? { name } : {}) },
          ...(channel ? { channel } : {}),
          ...(threadTs ? { threadTs } : {}),
          ...(messageTs ? { messageTs } : {}),
        },
      };
    },
  };
}
