/**
 * What Slack sends the interaction URL when someone clicks a button on a message: a signed
 * `application/x-www-form-urlencoded` body with one `payload` field holding the `block_actions`
 * JSON. The sandbox and the tests click Shiplane's buttons with this, so the production endpoint
 * verifies and parses exactly what Slack would send.
 */
import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../../shared/adapters/slack/signature.js';
import type { StoredMessage } from './workspace.js';

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
    trigger_id: `${Math.floor(now.getTime() / 1000)}.${randomBytes(6).toString('hex')}`,
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
