/**
 * The sandbox plays Slack's side of a button click: it builds the `block_actions` payload Slack
 * sends when someone clicks a button in a message, signs it with the app's signing secret (v0:
 * HMAC-SHA256 over `v0:{timestamp}:{raw body}`), and POSTs it form-encoded to the interaction
 * endpoint. The console page only says which button was clicked; the secret stays on the server.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { viewSubmissionPayload } from '../stand-ins/slack/interactions.js';
import type { OpenedView } from '../stand-ins/slack/workspace.js';

/** A message as Slack shows it in a channel (`conversations.history` shape, the fields we use). */
export interface SlackMessageLike {
  readonly ts: string;
  readonly text?: string | undefined;
  readonly blocks?: readonly unknown[] | undefined;
  readonly thread_ts?: string | undefined;
  readonly user?: string | undefined;
  readonly bot_id?: string | undefined;
}

/** Who clicks: a Slack user. */
export interface SlackUser {
  readonly id: string;
  readonly name: string;
}

export interface ClickInput {
  readonly channel: string;
  readonly message: SlackMessageLike;
  /** The button's `action_id` and `value` as the message has them. */
  readonly actionId: string;
  readonly value?: string | undefined;
  readonly user: SlackUser;
  /** Where the app may answer the click (`response_url`). */
  readonly responseUrl: string;
  readonly teamId?: string;
  readonly now?: Date;
  /** The click's trigger_id, issued by the Slack stand-in so the app can open a modal with it. */
  readonly triggerId?: string;
}

interface ButtonElement {
  readonly type: 'button';
  readonly action_id: string;
  readonly value?: string;
  readonly style?: string;
  readonly text?: unknown;
}

/** Finds the button a click is about, with its block id, in a message's blocks. */
export function findButton(
  blocks: readonly unknown[],
  actionId: string,
  value: string | undefined,
): { blockId: string; button: ButtonElement } | undefined {
  for (const block of blocks) {
    if (typeof block !== 'object' || block === null) continue;
    const {
      block_id: blockId,
      elements,
      accessory,
    } = block as {
      block_id?: string;
      elements?: unknown[];
      accessory?: unknown;
    };
    for (const element of [...(elements ?? []), accessory]) {
      const button = element as Partial<ButtonElement> | undefined;
      if (button?.type === 'button' && button.action_id === actionId) {
        if (value === undefined || button.value === value) {
          return { blockId: blockId ?? '', button: button as ButtonElement };
        }
      }
    }
  }
  return undefined;
}

const slackTs = (date: Date) =>
  `${Math.floor(date.getTime() / 1000)}.${String(date.getTime() % 1000).padEnd(6, '0')}`;

/** The `block_actions` payload Slack sends for a button click in a channel message. */
export function blockActionsPayload(input: ClickInput): Record<string, unknown> {
  const now = input.now ?? new Date();
  const teamId = input.teamId ?? 'T0ITDOERP1';
  const found = findButton(input.message.blocks ?? [], input.actionId, input.value);
  if (!found) throw new Error(`message ${input.message.ts} has no button ${input.actionId}`);
  const { blockId, button } = found;
  return {
    type: 'block_actions',
    user: { id: input.user.id, username: input.user.name, name: input.user.name, team_id: teamId },
    api_app_id: 'A0SHIPLANE1',
    token: 'deprecated-verification-token',
    container: {
      type: 'message',
      message_ts: input.message.ts,
      channel_id: input.channel,
      is_ephemeral: false,
    },
    trigger_id: input.triggerId ?? `${Date.now()}.${randomBytes(6).toString('hex')}`,
    team: { id: teamId, domain: 'itdo-erp' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel, name: 'deploys' },
    message: {
      type: 'message',
      ...(input.message.bot_id ? { bot_id: input.message.bot_id, subtype: 'bot_message' } : {}),
      ...(input.message.user ? { user: input.message.user } : {}),
      text: input.message.text ?? '',
      ts: input.message.ts,
      ...(input.message.thread_ts ? { thread_ts: input.message.thread_ts } : {}),
      blocks: input.message.blocks ?? [],
    },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        action_id: button.action_id,
        block_id: blockId,
        text: button.text ?? { type: 'plain_text', text: button.action_id, emoji: true },
        ...(button.value !== undefined ? { value: button.value } : {}),
        ...(button.style ? { style: button.style } : {}),
        type: 'button',
        action_ts: slackTs(now),
      },
    ],
  };
}

/** Slack's request signature headers for a raw body (v0 scheme). */
export function slackSignatureHeaders(
  signingSecret: string,
  rawBody: string,
  now: Date = new Date(),
): { 'x-slack-request-timestamp': string; 'x-slack-signature': string } {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${signature}` };
}

export interface SignedRequest {
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** The HTTP request Slack makes for an interaction: form-encoded `payload=`, signed. */
export function signedInteractionRequest(
  signingSecret: string,
  payload: unknown,
  now: Date = new Date(),
): SignedRequest {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...slackSignatureHeaders(signingSecret, body, now),
    },
  };
}

export interface ClickResult {
  readonly status: number;
  readonly body: string;
}

/** Sends a signed click to an interaction endpoint, as Slack does, and returns its answer. */
export async function sendClick(
  interactionUrl: string,
  signingSecret: string,
  input: ClickInput,
): Promise<ClickResult> {
  const request = signedInteractionRequest(signingSecret, blockActionsPayload(input), input.now);
  const response = await fetch(interactionUrl, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, body: await response.text() };
}

/** What the app answered a modal submission: nothing (the modal closes) or errors to show in it. */
export interface SubmitResult {
  readonly status: number;
  /** Slack's `response_action: errors`: messages by block id; the modal stays open. */
  readonly errors?: Record<string, string>;
}

/** Submits a modal the app opened, as `user` typed `inputs`: a signed `view_submission`, as Slack sends it. */
export async function sendViewSubmission(
  interactionUrl: string,
  signingSecret: string,
  input: { opened: OpenedView; user: SlackUser; inputs: Record<string, string>; teamId?: string },
): Promise<SubmitResult> {
  const payload = viewSubmissionPayload({
    opened: input.opened,
    user: input.user,
    inputs: input.inputs,
    ...(input.teamId ? { teamId: input.teamId } : {}),
  });
  const request = signedInteractionRequest(signingSecret, payload);
  const response = await fetch(interactionUrl, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  const text = await response.text();
  if (response.status === 200 && text) {
    const answer = JSON.parse(text) as { response_action?: string; errors?: Record<string, string> };
    if (answer.response_action === 'errors') return { status: 200, errors: answer.errors ?? {} };
  }
  // An empty 200 (or `response_action: clear`) closes the modal, as Slack does.
  if (response.status === 200) input.opened.closed = true;
  return { status: response.status };
}
