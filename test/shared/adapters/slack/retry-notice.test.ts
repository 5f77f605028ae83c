/**
 * A Slack that does not answer is never silence: every retry WebClient makes is said with the call,
 * which attempt, why, and the wait before the next. Against a local port that refuses connections.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SlackApiError, slackWebApi } from '../../../../shared/adapters/slack/web-api.js';

/** A port on 127.0.0.1 with nothing listening: connections are refused at once. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const TOKEN = 'xoxb-secret-bot-token';

describe('the Slack Web API against an unreachable Slack', () => {
  it('says each retry with the call, the attempt and its wait, then fails', async () => {
    const port = await refusingPort();
    const notices: string[] = [];
    const slack = slackWebApi({
      apiUrl: `http://127.0.0.1:${port}/api/`,
      token: async () => TOKEN,
      retries: 2,
      onRetry: (notice) => notices.push(notice),
    });

    await expect(slack.postMessage({ channel: 'C0RELEASES', text: 'hello' })).rejects.toThrow(SlackApiError);

    // WebClient's waits are randomized: 0.2–0.4 s before the second attempt, 0.4–0.8 s before the third.
    expect(notices).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Slack at http://127\\.0\\.0\\.1:${port}/api/ unreachable for chat\\.postMessage \\(attempt 1 of 3: .*ECONNREFUSED.*\\); retrying in 0\\.2–0\\.4 s$`,
        ),
      ),
      expect.stringMatching(
        /unreachable for chat\.postMessage \(attempt 2 of 3: .*ECONNREFUSED.*\); retrying in 0\.4–0\.8 s$/,
      ),
    ]);
  });

  it('names each of two concurrent calls in its own notices', async () => {
    const port = await refusingPort();
    const notices: string[] = [];
    const slack = slackWebApi({
      apiUrl: `http://127.0.0.1:${port}/api/`,
      token: async () => TOKEN,
      retries: 1,
      onRetry: (notice) => notices.push(notice),
    });

    await Promise.allSettled([
      slack.userGroupMembers('S0PLATFORMGRP'),
      slack.postEphemeral({ channel: 'C0RELEASES', user: 'U0BOB00001', text: 'hi' }),
    ]);

    expect(notices.map((notice) => /unreachable for (\S+)/.exec(notice)?.[1]).sort()).toEqual([
      'chat.postEphemeral',
      'usergroups.users.list',
    ]);
  });

  it('keeps the token and any credentials in the URL out of the notices', async () => {
    const port = await refusingPort();
    const notices: string[] = [];
    const slack = slackWebApi({
      apiUrl: `http://bot:hunter2@127.0.0.1:${port}/api/`,
      token: async () => TOKEN,
      retries: 1,
      onRetry: (notice) => notices.push(notice),
    });

    await expect(slack.postMessage({ channel: 'C0RELEASES', text: 'hello' })).rejects.toThrow(SlackApiError);

    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(new RegExp(`^Slack at http://127\\.0\\.0\\.1:${port}/api/ unreachable`));
    expect(notices[0]).not.toMatch(/hunter2|bot:|xoxb/);
  });

  it('says nothing when no retry follows', async () => {
    const port = await refusingPort();
    const notices: string[] = [];
    const slack = slackWebApi({
      apiUrl: `http://127.0.0.1:${port}/api/`,
      token: async () => TOKEN,
      retries: 0,
      onRetry: (notice) => notices.push(notice),
    });

    await expect(slack.postMessage({ channel: 'C0RELEASES', text: 'hello' })).rejects.toThrow(SlackApiError);
    expect(notices).toEqual([]);
  });
});
