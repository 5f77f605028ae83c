import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readBody } from '../../../local/http/index.js';
import {
  blockActionsPayload,
  sendClick,
  signedInteractionRequest,
  slackSignatureHeaders,
} from '../../../local/sandbox/slack-click.js';

const approvalMessage = {
  ts: '1764164420.000200',
  thread_ts: '1764164402.000100',
  bot_id: 'B0SHIPLANE1',
  text: 'Approve backend v2.1.6 for production?',
  blocks: [
    { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*backend* v2.1.5 → v2.1.6' } },
    {
      type: 'actions',
      block_id: 'decision',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          value: 'apv-7Kq2mX9',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
        },
        {
          type: 'button',
          action_id: 'reject',
          value: 'apv-7Kq2mX9',
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
        },
      ],
    },
  ],
};

const click = {
  channel: 'C0DEPLOYS1',
  message: approvalMessage,
  actionId: 'approve',
  value: 'apv-7Kq2mX9',
  user: { id: 'U0PLATFORM1', name: 'aiko.tanaka' },
  responseUrl: 'http://127.0.0.1:40003/actions/T0ITDOERP1/1/abc',
  now: new Date('2026-11-26T13:52:14Z'),
};

describe('slackSignatureHeaders', () => {
  it("matches the worked example in Slack's documentation", () => {
    // Slack's "Verifying requests from Slack" example (secret, timestamp, body and expected signature).
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';

    const headers = slackSignatureHeaders(
      '8f742231b10e8888abcd99yyyzzz85a5',
      body,
      new Date(1531420618 * 1000),
    );

    expect(headers).toEqual({
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });
});

describe('blockActionsPayload', () => {
  it('is the block_actions payload Slack sends for a click on a message button', () => {
    const payload = blockActionsPayload(click);

    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0PLATFORM1', username: 'aiko.tanaka' },
      container: { type: 'message', message_ts: '1764164420.000200', channel_id: 'C0DEPLOYS1' },
      channel: { id: 'C0DEPLOYS1' },
      message: { ts: '1764164420.000200', thread_ts: '1764164402.000100', blocks: approvalMessage.blocks },
      response_url: click.responseUrl,
      actions: [
        {
          type: 'button',
          action_id: 'approve',
          block_id: 'decision',
          value: 'apv-7Kq2mX9',
          style: 'primary',
          action_ts: '1795701134.000000',
        },
      ],
    });
  });

  it('refuses a click on a button the message does not have', () => {
    expect(() => blockActionsPayload({ ...click, actionId: 'merge' })).toThrow(/has no button merge/);
  });
});

describe('sendClick', () => {
  it('POSTs the payload form-encoded with a signature over the exact bytes sent', async () => {
    // Prepare
    let received: { headers: Record<string, unknown>; body: string } | undefined;
    const server = createServer(async (request, response) => {
      received = { headers: request.headers, body: (await readBody(request)).toString('utf8') };
      response.writeHead(200).end('');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/interactions`;

    // Act
    const result = await sendClick(url, 'sandbox-signing-secret', { ...click, now: new Date() });
    server.close();

    // Assess
    expect(result.status).toBe(200);
    expect(received?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const body = received?.body ?? '';
    const expected = slackSignatureHeaders(
      'sandbox-signing-secret',
      body,
      new Date(Number(received?.headers['x-slack-request-timestamp']) * 1000),
    );
    expect(received?.headers['x-slack-signature']).toBe(expected['x-slack-signature']);
    const payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as { actions: unknown[] };
    expect(payload.actions).toHaveLength(1);
  });

  it('signs the body it sends, not a re-encoding of the payload', () => {
    const request = signedInteractionRequest('s', { text: 'a b+c&d' }, new Date(0));
    expect(request.body).toBe('payload=%7B%22text%22%3A%22a+b%2Bc%26d%22%7D');
    expect(request.headers['x-slack-signature']).toBe(
      slackSignatureHeaders('s', request.body, new Date(0))['x-slack-signature'],
    );
  });
});
