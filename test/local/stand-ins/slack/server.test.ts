import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockActionsPayload, signedInteraction } from '../../../../local/stand-ins/slack/interactions.js';
import { type SlackServer, startSlackServer } from '../../../../local/stand-ins/slack/server.js';
import { verifySlackSignature } from '../../../../shared/adapters/slack/signature.js';

const TOKEN = 'xoxb-stand-in';
let slack: SlackServer;

beforeEach(async () => {
  slack = await startSlackServer({
    botToken: TOKEN,
    channels: ['C0DEPLOYS1'],
    userGroups: { S0PLATFORMGRP: ['U0BOB00001'] },
    users: [{ id: 'U0BOB00001', name: 'bob', realName: 'Bob Builder' }],
  });
});
afterEach(async () => {
  await slack.close();
});

async function call(
  method: string,
  body: Record<string, string>,
  options: { token?: string; json?: boolean } = {},
) {
  const headers: Record<string, string> = {
    'content-type': options.json ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded',
  };
  if (options.token !== '') headers.authorization = `Bearer ${options.token ?? TOKEN}`;
  const response = await fetch(`${slack.apiUrl}${method}`, {
    method: 'POST',
    headers,
    body: options.json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
  });
  return {
    status: response.status,
    json: (await response.json().catch(() => undefined)) as Record<string, unknown>,
  };
}

describe('the Slack stand-in', () => {
  it('refuses calls without the bot token, as Slack does (HTTP 200, ok false)', async () => {
    expect(await call('auth.test', {}, { token: '' })).toEqual({
      status: 200,
      json: { ok: false, error: 'not_authed' },
    });
    expect((await call('auth.test', {}, { token: 'xoxb-wrong' })).json).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect((await call('auth.test', {})).json).toMatchObject({
      ok: true,
      user_id: 'U0SHIPLANEBOT',
      bot_id: 'B0SHIPLANE',
    });
  });

  it('keeps messages with their thread and gives each a unique, ordered ts', async () => {
    const parent = await call('chat.postMessage', {
      channel: 'C0DEPLOYS1',
      text: 'Releasing backend v1.4.2',
    });
    expect(parent.json).toMatchObject({
      ok: true,
      channel: 'C0DEPLOYS1',
      message: { text: 'Releasing backend v1.4.2' },
    });
    const ts = String(parent.json.ts);
    expect(ts).toMatch(/^\d{10}\.\d{6}$/);
    const reply = await call(
      'chat.postMessage',
      { channel: 'C0DEPLOYS1', text: 'Committed', thread_ts: ts },
      { json: true },
    );
    expect(String(reply.json.ts) > ts).toBe(true);
    expect(slack.thread('C0DEPLOYS1', ts).map((m) => m.text)).toEqual([
      'Releasing backend v1.4.2',
      'Committed',
    ]);
    expect(slack.messages('C0DEPLOYS1')).toHaveLength(2);
  });

  it('parses blocks sent as JSON text in a form field and gives them block ids', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }];
    const posted = await call('chat.postMessage', {
      channel: 'C0DEPLOYS1',
      text: 't',
      blocks: JSON.stringify(blocks),
    });
    const stored = slack.message('C0DEPLOYS1', String(posted.json.ts));
    expect(stored?.blocks?.[0]).toMatchObject({ type: 'section', block_id: expect.any(String) });
  });

  it('updates a message in place and marks it edited', async () => {
    const posted = await call('chat.postMessage', { channel: 'C0DEPLOYS1', text: 'before' });
    const updated = await call('chat.update', {
      channel: 'C0DEPLOYS1',
      ts: String(posted.json.ts),
      text: 'after',
    });
    expect(updated.json).toMatchObject({ ok: true, text: 'after' });
    expect(slack.message('C0DEPLOYS1', String(posted.json.ts))).toMatchObject({ text: 'after', edited: {} });
    expect((await call('chat.update', { channel: 'C0DEPLOYS1', ts: '1.000001', text: 'x' })).json).toEqual({
      ok: false,
      error: 'message_not_found',
    });
  });

  it("answers Slack's errors for unknown channels, empty messages and broken limits", async () => {
    expect((await call('chat.postMessage', { channel: 'C0OTHER999', text: 'x' })).json.error).toBe(
      'channel_not_found',
    );
    expect((await call('chat.postMessage', { channel: 'C0DEPLOYS1' })).json.error).toBe('no_text');
    const tooMany = JSON.stringify(Array.from({ length: 51 }, () => ({ type: 'divider' })));
    expect(
      (await call('chat.postMessage', { channel: 'C0DEPLOYS1', text: 'x', blocks: tooMany })).json.error,
    ).toBe('invalid_blocks');
    expect((await call('chat.unknownThing', {})).json.error).toBe('unknown_method');
  });

  it('keeps ephemeral messages apart from the channel', async () => {
    const answer = await call('chat.postEphemeral', {
      channel: 'C0DEPLOYS1',
      user: 'U0BOB00001',
      text: 'only you',
    });
    expect(answer.json).toMatchObject({ ok: true, message_ts: expect.any(String) });
    expect(slack.ephemerals()).toMatchObject([{ user: 'U0BOB00001', text: 'only you' }]);
    expect(slack.messages()).toEqual([]);
  });

  it('lists user-group members and describes users', async () => {
    expect((await call('usergroups.users.list', { usergroup: 'S0PLATFORMGRP' })).json).toEqual({
      ok: true,
      users: ['U0BOB00001'],
    });
    expect((await call('usergroups.users.list', { usergroup: 'S0NOPE' })).json.error).toBe('no_such_subteam');
    expect((await call('users.info', { user: 'U0BOB00001' })).json).toMatchObject({
      ok: true,
      user: { id: 'U0BOB00001', name: 'bob', real_name: 'Bob Builder' },
    });
  });

  it('answers a JSON body that is not JSON invalid_json, a path outside /api/ 404, a body over 1 MiB 413', async () => {
    const post = (path: string, body: string) =>
      fetch(new URL(path, slack.apiUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body,
      });

    const badJson = await post('chat.postMessage', '{"channel":');
    const outside = await post('/hooks/T0/B0/x', '{}');
    const tooLarge = await post(
      'chat.postMessage',
      JSON.stringify({ channel: 'C0DEPLOYS1', text: 'x'.repeat(1_100_000) }),
    );
    const prototypeName = await post('constructor', '{}');

    expect({ status: badJson.status, json: await badJson.json() }).toEqual({
      status: 200,
      json: { ok: false, error: 'invalid_json' },
    });
    expect(outside.status).toBe(404);
    expect(tooLarge.status).toBe(413);
    expect(await prototypeName.json()).toEqual({ ok: false, error: 'unknown_method' });
    expect(slack.messages()).toEqual([]);
  });

  it('fails every call with HTTP 503 while down, and records the calls', async () => {
    slack.setDown(true);
    expect((await call('auth.test', {})).status).toBe(503);
    slack.setDown(false);
    expect((await call('auth.test', {})).status).toBe(200);
    expect(slack.calls().map((c) => [c.method, c.ok])).toEqual([
      ['auth.test', false],
      ['auth.test', true],
    ]);
  });
});

describe('clicking a button the way Slack does', () => {
  it('builds a signed block_actions request for a button of a stored message', async () => {
    const blocks = [
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'shiplane_approve',
            value: 'abc',
            text: { type: 'plain_text', text: 'Approve' },
          },
        ],
      },
    ];
    const posted = await call('chat.postMessage', {
      channel: 'C0DEPLOYS1',
      text: 't',
      blocks: JSON.stringify(blocks),
      thread_ts: '1700000000.000100',
    });
    const message = slack.message('C0DEPLOYS1', String(posted.json.ts));
    if (!message) throw new Error('message not stored');
    const now = new Date();
    const payload = blockActionsPayload({
      message,
      actionId: 'shiplane_approve',
      user: { id: 'U0BOB00001', name: 'bob' },
    });
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0BOB00001', username: 'bob' },
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: 'C0DEPLOYS1',
        thread_ts: '1700000000.000100',
      },
      actions: [
        { action_id: 'shiplane_approve', value: 'abc', type: 'button', block_id: expect.any(String) },
      ],
    });
    const request = signedInteraction(payload, 'secret', { now, base64: true });
    const rawBody = Buffer.from(request.body, 'base64');
    expect(rawBody.toString('utf8')).toMatch(/^payload=%7B/);
    expect(
      verifySlackSignature(
        'secret',
        {
          timestamp: request.headers['x-slack-request-timestamp'],
          signature: request.headers['x-slack-signature'],
          rawBody,
        },
        Math.floor(now.getTime() / 1000),
      ).ok,
    ).toBe(true);
    expect(() =>
      blockActionsPayload({ message, actionId: 'shiplane_reject', user: { id: 'U0BOB00001', name: 'bob' } }),
    ).toThrow(/no button shiplane_reject/);
  });
});
