/**
 * The `frozen` notification: after `<Stage> · Check freeze` answers frozen (functions/freeze-check),
 * `<Stage> · Notify frozen` puts the answer's notice in the release thread and marks the stage frozen
 * in the parent message. It never fails the run: the wait does not depend on Slack.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackServer, startSlackServer } from '../../../../local/stand-ins/slack/server.js';
import { slackChat } from '../../../../shared/adapters/slack/chat.js';
import { eventReply } from '../../../../shared/adapters/slack/release-thread-message.js';
import { slackWebApi } from '../../../../shared/adapters/slack/web-api.js';
import type { FreezeStatus } from '../../../../shared/contracts/freeze.js';
import { type NotifyDeps, notify } from '../../../../shared/steps/notify/notify.js';
import { threadSettings } from '../../../../shared/steps/notify/thread.js';
import {
  approvalRequest,
  BOT_TOKEN,
  CHANNEL,
  manualClock,
  recordingReporter,
  release,
  testConfig,
} from '../../../fixtures/slack/context.js';
import { useLocalApprovalsTable } from '../../../support/local-dynamo.js';

const approvalsTable = useLocalApprovalsTable();
let slack: SlackServer;

beforeEach(async () => {
  slack = await startSlackServer({ botToken: BOT_TOKEN, channels: [CHANNEL] });
});
afterEach(async () => {
  await slack.close();
});

function deps(at: string) {
  const clock = manualClock(at);
  const value: NotifyDeps = {
    store: approvalsTable.store(),
    chat: slackChat(
      slackWebApi({ apiUrl: slack.apiUrl, token: async () => BOT_TOKEN, retries: 0 }),
      eventReply,
    ),
    ...threadSettings(testConfig(slack.apiUrl)),
    now: clock.now,
    reporter: recordingReporter(),
  };
  return value;
}

// What freeze-check answers on Saturday 2026-11-28 03:00Z inside the Tokyo weekend freeze.
const frozen: FreezeStatus = {
  status: 'frozen',
  until: '2026-11-29T21:00:00.000Z',
  reason: 'release freeze',
  timeZone: 'Asia/Tokyo',
  notice: 'production frozen until Mon 06:00 JST: release freeze',
  checkedAt: '2026-11-28T03:00:00.000Z',
};

const frozenEvent = () => ({
  event: 'frozen' as const,
  execution: approvalRequest().execution,
  release: release(),
  stage: 'production',
  detail: frozen,
});
const replies = () => slack.messages(CHANNEL).filter((m) => m.thread_ts);

describe('the frozen notification', () => {
  it('says in the release thread until when the stage is frozen, in the window zone', async () => {
    await notify(frozenEvent(), deps('2026-11-28T03:00:00Z'));

    expect(replies().map((m) => m.text)).toEqual([
      expect.stringContaining('production frozen until Mon 06:00 JST: release freeze'),
    ]);
    // The parent message shows the stage frozen too.
    const parent = slack.messages(CHANNEL).find((m) => !m.thread_ts);
    expect(JSON.stringify(parent?.blocks)).toContain('frozen');
  });

  it('does not fail when Slack is down: the wait does not depend on the thread', async () => {
    const reporter = recordingReporter();
    const given = { ...deps('2026-11-28T03:00:00Z'), reporter };
    await slack.close();

    await expect(notify(frozenEvent(), given)).resolves.toBeDefined();
    expect(reporter.counts).toContain('SlackNotificationFailed');
    slack = await startSlackServer({ botToken: BOT_TOKEN, channels: [CHANNEL] });
  });
});
