import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackServer, startSlackServer } from '../../../../local/stand-ins/slack/server.js';
import {
  isSlackOutage,
  SlackApiError,
  slackWebApi,
  withOutageBreaker,
} from '../../../../shared/adapters/slack/web-api.js';
import { BOT_TOKEN, CHANNEL } from '../../../fixtures/slack/context.js';

let server: SlackServer;

beforeEach(async () => {
  server = await startSlackServer({
    botToken: BOT_TOKEN,
    channels: [CHANNEL],
    userGroups: { S0PLATFORMGRP: ['U0BOB00001', 'U0CAROL001'] },
  });
});
afterEach(async () => {
  await server.close();
});

const api = (token = BOT_TOKEN, retries = 0) =>
  slackWebApi({ apiUrl: server.apiUrl, token: async () => token, retries, timeoutMs: 2_000 });

describe('slackWebApi against the Slack stand-in', () => {
  it('posts a message and a threaded reply, and updates the first in place', async () => {
    const slack = api();
    const parent = await slack.postMessage({
      channel: CHANNEL,
      text: 'Releasing backend',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*backend*' } }],
    });
    const reply = await slack.postMessage({ channel: CHANNEL, text: 'Committed', threadTs: parent.ts });
    await slack.updateMessage({ channel: CHANNEL, ts: parent.ts, text: 'Deployed backend', blocks: [] });
    const thread = server.thread(CHANNEL, parent.ts);
    expect(thread.map((m) => [m.ts, m.text, m.thread_ts])).toEqual([
      [parent.ts, 'Deployed backend', undefined],
      [reply.ts, 'Committed', parent.ts],
    ]);
  });

  it('sends an ephemeral message into the thread', async () => {
    await api().postEphemeral({ channel: CHANNEL, user: 'U0BOB00001', text: 'nope', threadTs: '1.000001' });
    expect(server.ephemerals()).toMatchObject([{ user: 'U0BOB00001', text: 'nope', thread_ts: '1.000001' }]);
  });

  it('lists the members of a user group', async () => {
    expect(await api().userGroupMembers('S0PLATFORMGRP')).toEqual(['U0BOB00001', 'U0CAROL001']);
  });

  it("turns Slack's error into a SlackApiError naming the method and Slack's code", async () => {
    const error = await api()
      .postMessage({ channel: 'C0UNKNOWN1', text: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackApiError);
    expect(error).toMatchObject({
      name: 'SlackApiError',
      method: 'chat.postMessage',
      code: 'channel_not_found',
    });
  });

  it('reports a wrong token as invalid_auth without putting the token in the message', async () => {
    const error = (await api('xoxb-revoked')
      .userGroupMembers('S0PLATFORMGRP')
      .catch((e: unknown) => e)) as SlackApiError;
    expect(error.code).toBe('invalid_auth');
    expect(error.message).not.toContain('xoxb-revoked');
  });

  it('reports an outage as an HTTP error after its retries', async () => {
    server.setDown(true);
    const error = (await api(BOT_TOKEN, 1)
      .postMessage({ channel: CHANNEL, text: 'x' })
      .catch((e: unknown) => e)) as SlackApiError;
    expect(error).toMatchObject({ name: 'SlackApiError', code: 'http_503' });
    expect(server.calls().filter((c) => c.method === 'chat.postMessage')).toHaveLength(2);
  });

  it('reads the token on every call, so a rotated secret is used at once', async () => {
    let token = 'xoxb-old';
    const slack = slackWebApi({ apiUrl: server.apiUrl, token: async () => token, retries: 0 });
    await expect(slack.userGroupMembers('S0PLATFORMGRP')).rejects.toMatchObject({ code: 'invalid_auth' });
    token = BOT_TOKEN;
    await expect(slack.userGroupMembers('S0PLATFORMGRP')).resolves.toHaveLength(2);
  });
});

describe('withOutageBreaker', () => {
  it('fails the remaining calls at once after Slack is found down', async () => {
    const slack = withOutageBreaker(api());
    server.setDown(true);
    await expect(slack.postMessage({ channel: CHANNEL, text: 'x' })).rejects.toMatchObject({
      code: 'http_503',
    });
    server.setDown(false);
    await expect(
      slack.updateMessage({ channel: CHANNEL, ts: '1.000001', text: 'x', blocks: [] }),
    ).rejects.toMatchObject({
      code: 'skipped_after_outage',
      method: 'chat.update',
    });
    expect(server.calls()).toHaveLength(1);
  });

  it('keeps calling after an error that is about the call, not about Slack', async () => {
    const slack = withOutageBreaker(api());
    const error = await slack.postMessage({ channel: 'C0UNKNOWN1', text: 'x' }).catch((e: unknown) => e);
    expect(isSlackOutage(error)).toBe(false);
    await expect(slack.postMessage({ channel: CHANNEL, text: 'x' })).resolves.toMatchObject({
      channel: CHANNEL,
    });
  });
});
