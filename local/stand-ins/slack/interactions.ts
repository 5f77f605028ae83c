/**
 * What Slack sends the interaction URL when someone clicks a button on a message: a signed
 * `application/x-www-form-urlencoded` body with one `payload` field holding the `block_actions`
 * JSON. The sandbox and the tests click Shiplane's buttons with this, so the production endpoint
 * verifies and parses exactly what Slack would send.
 */
import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../../shared/adapters/slack/signature.js';
import type { OpenedView, StoredMessage } from './workspace.js';

export interface Clicker {
  readonly id: string;
  readonly name: string;
}

export interface ClickOptions {
  readonly message: StoredMessage;
  readonly actionId: string;
  readonly user: Clicker;
  readonly teamId?: string;
  readonly channelName?: string;
  readonly now?: Date;
  /** The click's trigger_id (SlackServer.issueTrigger, so the app may open a modal with it). */
  readonly triggerId?: string;
}

interface ButtonLike {
  type?: string;
  action_id?: string;
  value?: string;
  style?: string;
  text?: { type: string; text: string; emoji?: boolean };
}

/** The `block_actions` payload for a click on the button `actionId` of `message`. */
export function blockActionsPayload(options: ClickOptions): Record<string, unknown> {
  const { message, user } = options;
  const teamId = options.teamId ?? 'T0SHIPLANE';
  const now = options.now ?? new Date();
  let found: { block_id: string; button: ButtonLike } | undefined;
  for (const raw of message.blocks ?? []) {
    const block = raw as { type?: string; block_id?: string; elements?: ButtonLike[] };
    if (block.type !== 'actions') continue;
    const button = block.elements?.find((e) => e.type === 'button' && e.action_id === options.actionId);
    if (button) found = { block_id: block.block_id ?? '', button };
  }
  if (!found) throw new Error(`message ${message.ts} has no button ${options.actionId}`);
  const seconds = (now.getTime() / 1000).toFixed(6);
  return {
    type: 'block_actions',
    user: { id: user.id, username: user.name, name: user.name, team_id: teamId },
    api_app_id: 'A0SHIPLANE',
    token: 'verification-token-unused',
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: message.channel,
      is_ephemeral: false,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    },
    trigger_id: options.triggerId ?? `${Math.floor(now.getTime() / 1000)}.${randomBytes(6).toString('hex')}`,
    team: { id: teamId, domain: 'shiplane-sandbox' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: message.channel, name: options.channelName ?? 'deploys' },
    message: {
      type: 'message',
      subtype: 'bot_message',
      text: message.text,
      ts: message.ts,
      bot_id: message.bot_id,
      user: message.user,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      blocks: message.blocks,
    },
    state: { values: {} },
    response_url: `https://hooks.slack.com/actions/${teamId}/1/${randomBytes(12).toString('hex')}`,
    actions: [
      {
        action_id: options.actionId,
        block_id: found.block_id,
        text: found.button.text,
        value: found.button.value,
        ...(found.button.style ? { style: found.button.style } : {}),
        type: 'button',
        action_ts: seconds,
      },
    ],
  };
}

export interface SubmitOptions {
  /** The modal as the app opened it (SlackServer.views()). */
  readonly opened: OpenedView;
  readonly user: Clicker;
  /** What the user typed, by the input element's `action_id`; an empty field is sent as null. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly teamId?: string;
  readonly now?: Date;
}

/** The `view_submission` payload Slack sends when someone presses a modal's submit button. */
export function viewSubmissionPayload(options: SubmitOptions): Record<string, unknown> {
  const { opened, user } = options;
  const teamId = options.teamId ?? 'T0SHIPLANE';
  const now = options.now ?? new Date();
  const values: Record<string, Record<string, { type: string; value: string | null }>> = {};
  for (const raw of (opened.view.blocks as unknown[] | undefined) ?? []) {
    const block = raw as {
      type?: string;
      block_id?: string;
      element?: { type?: string; action_id?: string };
    };
    if (block.type !== 'input' || !block.block_id || !block.element?.action_id) continue;
    const typed = options.inputs[block.element.action_id] ?? '';
    values[block.block_id] = {
      [block.element.action_id]: {
        type: block.element.type ?? 'plain_text_input',
        value: typed === '' ? null : typed,
      },
    };
  }
  return {
    type: 'view_submission',
    team: { id: teamId, domain: 'shiplane-sandbox' },
    user: { id: user.id, username: user.name, name: user.name, team_id: teamId },
    api_app_id: 'A0SHIPLANE',
    token: 'verification-token-unused',
    trigger_id: `${Math.floor(now.getTime() / 1000)}.${randomBytes(6).toString('hex')}`,
    view: {
      ...opened.view,
      id: opened.id,
      team_id: teamId,
      state: { values },
      hash: `${Math.floor(opened.openedAt / 1000)}.${randomBytes(4).toString('hex')}`,
      clear_on_close: false,
      notify_on_close: false,
      previous_view_id: null,
      root_view_id: opened.id,
      app_id: 'A0SHIPLANE',
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: 'B0SHIPLANE',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** An API Gateway HTTP API (payload format 2.0) request as Slack's POST arrives at the endpoint. */
export interface SignedInteraction {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

/** Encodes and signs a payload the way Slack does (timestamp = `now`). */
export function signedInteraction(
  payload: unknown,
  signingSecret: string,
  options: { now?: Date; base64?: boolean } = {},
): SignedInteraction {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(Math.floor((options.now ?? new Date()).getTime() / 1000));
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signSlackRequest(signingSecret, timestamp, body),
    },
    body: options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
  };
}

/** A full API Gateway v2 event around a signed interaction, as the Lambda receives it. */
export function apiGatewayEvent(interaction: SignedInteraction, now = new Date()): Record<string, unknown> {
  return {
    version: '2.0',
    routeKey: 'POST /slack/interactions',
    rawPath: '/slack/interactions',
    rawQueryString: '',
    headers: {
      ...interaction.headers,
      'content-length': String(Buffer.byteLength(interaction.body)),
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path: '/slack/interactions',
        protocol: 'HTTP/1.1',
        sourceIp: '52.7.0.1',
        userAgent: interaction.headers['user-agent'] ?? 'Slackbot',
      },
      requestId: randomBytes(8).toString('hex'),
      routeKey: 'POST /slack/interactions',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: interaction.body,
    isBase64Encoded: interaction.isBase64Encoded,
  };
}
