/**
 * notify for a stage whose approval said yes and whose pull request was then closed unmerged: the
 * rejection is the pull request's, so the thread names who closed it, not the approver.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackServer, startSlackServer } from '../../../../local/stand-ins/slack/server.js';
import { slackChat } from '../../../../shared/adapters/slack/chat.js';
import { eventReply } from '../../../../shared/adapters/slack/release-thread-message.js';
import { slackWebApi } from '../../../../shared/adapters/slack/web-api.js';
import { ERRORS } from '../../../../shared/contracts/tasks.js';
import { decideApproval } from '../../../../shared/steps/approval/decide.js';
import { requestApproval } from '../../../../shared/steps/approval/request.js';
import { type NotifyDeps, notify } from '../../../../shared/steps/notify/notify.js';
import { threadSettings } from '../../../../shared/steps/notify/thread.js';
import {
  approvalRequest,
  BOT_TOKEN,
  CHANNEL,
  manualClock,
  notification,
  recordingReporter,
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

describe('notify after a pull request closed unmerged', () => {
  it('names who closed the pull request, not who approved the stage', async () => {
    const clock = manualClock('2026-11-26T14:00:00Z');
    const deps: NotifyDeps = {
      store: approvalsTable.store(),
      chat: slackChat(
        slackWebApi({ apiUrl: slack.apiUrl, token: async () => BOT_TOKEN, retries: 0 }),
        eventReply,
      ),
      ...threadSettings(testConfig(slack.apiUrl)),
      now: clock.now,
      reporter: recordingReporter(),
    };
    await notify(notification('started'), deps);
    const request = approvalRequest();
    await requestApproval(request, deps);
    const approvalId = (await deps.store.approvalIdFor(request.execution, 'production')) ?? '';
    await decideApproval(
      { approvalId, decision: 'approved', by: 'U0PLATFORM1', via: 'slack' },
      { ...deps, taskTokens: { succeed: async () => {}, fail: async () => {} } },
    );

    await notify(
      notification('rejected', {
        stage: 'production',
        detail: {
          Error: ERRORS.pullRequestClosed,
          Cause:
            '#12 (https://github.com/o/r/pull/12) was closed without merging by erp-lead; production was not changed',
        },
      }),
      deps,
    );

    const reply = slack
      .messages(CHANNEL)
      .filter((m) => m.thread_ts)
      .at(-1)?.text;
    expect(reply).toMatch(/rejected: #12 .* was closed without merging by erp-lead/);
    expect(reply).not.toContain('U0PLATFORM1');
    expect((await deps.store.getApproval(approvalId))?.status).toBe('approved');
  });
});
