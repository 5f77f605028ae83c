import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackServer, startSlackServer } from '../../../../local/stand-ins/slack/server.js';
import { slackChat } from '../../../../shared/adapters/slack/chat.js';
import { eventReply } from '../../../../shared/adapters/slack/release-thread-message.js';
import { slackWebApi } from '../../../../shared/adapters/slack/web-api.js';
import type { FreezeWindowConfig } from '../../../../shared/config/freeze.js';
import { freezeStatusSchema } from '../../../../shared/contracts/freeze.js';
import { checkFreeze } from '../../../../shared/steps/notify/freeze-check.js';
import type { NotifyDeps } from '../../../../shared/steps/notify/notify.js';
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

const tokyoWeekend: FreezeWindowConfig = {
  kind: 'recurring',
  cron: '0 18 * * 5',
  duration: 60 * 3600,
  timezone: 'Asia/Tokyo',
  reason: 'release freeze',
};

function deps(windows: Record<string, readonly FreezeWindowConfig[]>, at: string) {
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
    freezeWindows: (stage) => windows[stage],
  };
  return value;
}

const check = (stage = 'production') => ({
  check: 'freeze' as const,
  execution: approvalRequest().execution,
  release: release(),
  stage,
});
const replies = () => slack.messages(CHANNEL).filter((m) => m.thread_ts);

describe('checkFreeze', () => {
  it('answers open and posts nothing outside the windows', async () => {
    // Thursday 2026-11-26 14:00Z: before the Friday 18:00 JST start.
    const status = await checkFreeze(check(), deps({ production: [tokyoWeekend] }, '2026-11-26T14:00:00Z'));

    expect(status).toEqual({ status: 'open', checkedAt: '2026-11-26T14:00:00.000Z' });
    expect(slack.messages(CHANNEL)).toEqual([]);
  });

  it('answers frozen with the end and says so in the release thread, in the window zone', async () => {
    // Saturday 2026-11-28 03:00Z, inside the weekend that ends Monday 06:00 JST (Sunday 21:00Z).
    const status = await checkFreeze(check(), deps({ production: [tokyoWeekend] }, '2026-11-28T03:00:00Z'));

    expect(freezeStatusSchema.parse(status)).toEqual({
      status: 'frozen',
      until: '2026-11-29T21:00:00.000Z',
      reason: 'release freeze',
      timeZone: 'Asia/Tokyo',
      notice: 'production frozen until Mon 06:00 JST: release freeze',
      checkedAt: '2026-11-28T03:00:00.000Z',
    });
    expect(replies().map((m) => m.text)).toEqual([
      expect.stringContaining('production frozen until Mon 06:00 JST: release freeze'),
    ]);
    // The parent message shows the stage frozen too.
    const parent = slack.messages(CHANNEL).find((m) => !m.thread_ts);
    expect(JSON.stringify(parent?.blocks)).toContain('frozen');
  });

  it('still answers when Slack is down: the wait does not depend on the thread', async () => {
    const given = deps({ production: [tokyoWeekend] }, '2026-11-28T03:00:00Z');
    await slack.close();

    const status = await checkFreeze(check(), given);

    expect(status).toMatchObject({ status: 'frozen', until: '2026-11-29T21:00:00.000Z' });
    slack = await startSlackServer({ botToken: BOT_TOKEN, channels: [CHANNEL] });
  });

  it('fails closed for a stage its config does not know', async () => {
    await expect(
      checkFreeze(check('canary'), deps({ production: [tokyoWeekend] }, '2026-11-28T03:00:00Z')),
    ).rejects.toThrow(/no stage canary .*cannot tell whether it is frozen/);
  });
});
