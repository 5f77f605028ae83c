import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackServer, startSlackServer } from '../../../../local/stand-ins/slack/server.js';
import { snsAlertPublisher } from '../../../../shared/adapters/aws/sns-alert-topic.js';
import { slackChat } from '../../../../shared/adapters/slack/chat.js';
import { eventReply } from '../../../../shared/adapters/slack/release-thread-message.js';
import { slackWebApi } from '../../../../shared/adapters/slack/web-api.js';
import type { Notification } from '../../../../shared/contracts/tasks.js';
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
const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:shiplane-alerts';
const SHA = '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
const PROD_SHA = 'aa1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
let slack: SlackServer;

beforeEach(async () => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  slack = await startSlackServer({ botToken: BOT_TOKEN, channels: [CHANNEL] });
});
afterEach(async () => {
  await slack.close();
});

function deps() {
  const clock = manualClock('2026-11-26T14:00:00Z');
  const reporter = recordingReporter();
  const value: NotifyDeps = {
    store: approvalsTable.store(),
    chat: slackChat(
      slackWebApi({ apiUrl: slack.apiUrl, token: async () => BOT_TOKEN, retries: 0 }),
      eventReply,
    ),
    publishAlert: snsAlertPublisher(new SNSClient({}), TOPIC),
    ...threadSettings(testConfig(slack.apiUrl)),
    now: clock.now,
    reporter,
  };
  return { ...value, clock, reporter };
}

const health = (revision: string, attempt: number) => ({
  status: 'healthy',
  message: 'Synced and Healthy',
  revision,
  syncStatus: 'Synced',
  healthStatus: 'Healthy',
  checkedAt: '2026-11-26T14:05:00Z',
  attempt,
});
const parents = () => slack.messages(CHANNEL).filter((m) => !m.thread_ts);
const replies = () => slack.messages(CHANNEL).filter((m) => m.thread_ts);

describe('notify', () => {
  it('keeps one thread per release: the parent updated in place, a reply per event', async () => {
    const d = deps();
    const events: Notification[] = [
      notification('started'),
      notification('committed', {
        stage: 'staging',
        detail: { commit: SHA, status: 'committed', previousTag: 'v1.4.1' },
      }),
      notification('healthy', { stage: 'staging', detail: health(SHA, 3) }),
    ];
    for (const event of events) {
      expect(await notify(event, d)).toEqual({ slack: 'posted', alert: 'skipped' });
    }
    const request = approvalRequest();
    await requestApproval(request, d);
    const approvalId = (await d.store.approvalIdFor(request.execution, 'production')) ?? '';
    const decided = await decideApproval(
      { approvalId, decision: 'approved', by: 'U0PLATFORM1', via: 'slack' },
      { ...d, taskTokens: { succeed: async () => {}, fail: async () => {} } },
    );
    const detail =
      decided.kind === 'decided' ? { decision: 'approved', approvalId, ...decided.decision } : undefined;
    const rest: Notification[] = [
      notification('approved', { stage: 'production', detail }),
      notification('committed', {
        stage: 'production',
        detail: { commit: PROD_SHA, status: 'committed', previousTag: 'v1.4.1' },
      }),
      notification('healthy', { stage: 'production', detail: health(PROD_SHA, 2) }),
      notification('deployed', { detail: {} }),
    ];
    for (const event of rest) await notify(event, d);

    expect(parents()).toHaveLength(1);
    const parent = parents()[0];
    expect(parent?.text).toBe('Deployed backend v1.4.2');
    const lines = JSON.stringify(parent?.blocks);
    expect(lines).toContain('*staging*  :white_check_mark: healthy');
    expect(lines).toContain('*production*  :white_check_mark: healthy');
    expect(replies().map((m) => m.text.split(' ')[0])).toEqual([
      ':memo:',
      ':white_check_mark:',
      'Approved:',
      ':+1:',
      ':memo:',
      ':white_check_mark:',
      ':tada:',
    ]);
    expect(replies().every((m) => m.thread_ts === parent?.ts)).toBe(true);
    expect(sns.calls()).toHaveLength(0);
  });

  it('records the tag a stage is healthy at, for the next approval', async () => {
    const d = deps();
    await notify(notification('healthy', { stage: 'production', detail: health(PROD_SHA, 2) }), d);
    expect(await d.store.deployedTag('backend', 'production')).toMatchObject({ tag: 'v1.4.2' });
  });

  it("keeps the stage's record for shiplane rollback: what a commit pins, each healthy tag with its release, an automatic rollback's entry", async () => {
    // Prepare
    const d = deps();
    const earlier = { ...notification('healthy').release, tag: 'v1.4.1', digest: `sha256:${'1'.repeat(64)}` };

    // Act: v1.4.1 healthy, v1.4.2 committed, degraded and rolled back to v1.4.1.
    await notify(
      notification('healthy', {
        execution: 'backend-v1.4.1-run',
        release: earlier,
        stage: 'staging',
        detail: health(PROD_SHA, 1),
      }),
      d,
    );
    await notify(
      notification('committed', {
        stage: 'staging',
        detail: { commit: SHA, status: 'committed', previousTag: 'v1.4.1' },
      }),
      d,
    );
    const pinnedAfterCommit = (await d.store.stageTags('backend', 'staging'))?.pinned;
    await notify(
      notification('rolled-back', {
        stage: 'staging',
        detail: {
          target: { tag: 'v1.4.1', digest: earlier.digest },
          pinDigest: true,
          error: 'Shiplane.Degraded',
          reason: 'staging is Degraded',
          commit: { commit: 'c'.repeat(40), status: 'committed', previousTag: 'v1.4.2' },
          health: { ...health('d'.repeat(40), 1) },
        },
      }),
      d,
    );

    // Assess
    expect(pinnedAfterCommit).toEqual({
      tag: 'v1.4.2',
      digest: notification('healthy').release.digest,
      execution: notification('healthy').execution,
      at: '2026-11-26T14:00:00.000Z',
      commit: SHA,
    });
    const tags = await d.store.stageTags('backend', 'staging');
    expect(tags?.healthy).toEqual([
      {
        tag: 'v1.4.1',
        digest: earlier.digest,
        execution: notification('healthy').execution,
        at: '2026-11-26T14:00:00.000Z',
        commit: 'd'.repeat(40),
        release: earlier,
      },
    ]);
    expect(tags?.pinned).toMatchObject({ tag: 'v1.4.1', commit: 'd'.repeat(40) });
  });

  it('starts the thread on a later event when the start was missed', async () => {
    const d = deps();
    await notify(
      notification('committed', {
        stage: 'staging',
        detail: { commit: SHA, status: 'committed', previousTag: null },
      }),
      d,
    );
    expect(parents()).toHaveLength(1);
    expect(replies()).toHaveLength(1);
  });

  it('alerts the topic on degraded health, with the cause', async () => {
    const d = deps();
    const result = await notify(
      notification('degraded', {
        stage: 'production',
        detail: {
          Error: 'Shiplane.Degraded',
          Cause: `production is Degraded at ${PROD_SHA}: Deployment backend 0/3 ready`,
        },
      }),
      d,
    );
    expect(result).toEqual({ slack: 'posted', alert: 'published' });
    const published = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(published).toMatchObject({
      TopicArn: TOPIC,
      Subject: 'Shiplane: backend v1.4.2 degraded in production',
    });
    expect(published?.Message).toContain('Deployment backend 0/3 ready');
    expect(replies()[0]?.text).toContain(':red_circle: *production* is Degraded');
  });

  it('does not alert on a rejection, and gives who rejected and why', async () => {
    const d = deps();
    const request = approvalRequest();
    await requestApproval(request, d);
    const approvalId = (await d.store.approvalIdFor(request.execution, 'production')) ?? '';
    await decideApproval(
      {
        approvalId,
        decision: 'rejected',
        by: 'arn:aws:iam::123456789012:user/alice',
        reason: 'freeze',
        via: 'cli',
      },
      { ...d, taskTokens: { succeed: async () => {}, fail: async () => {} } },
    );
    const result = await notify(
      notification('rejected', {
        stage: 'production',
        detail: {
          Error: 'Shiplane.Rejected',
          Cause: 'Rejected by arn:aws:iam::123456789012:user/alice via cli: freeze',
        },
      }),
      d,
    );
    expect(result).toEqual({ slack: 'posted', alert: 'skipped' });
    expect(sns.calls()).toHaveLength(0);
    expect(replies().at(-1)?.text).toBe(
      `:no_entry: Promotion of \`v1.4.2\` to *production* rejected by \`arn:aws:iam::123456789012:user/alice\`: freeze. The run ended \`Rejected\`.\n:point_right: Next: If it should go ahead after all, ask again with \`shiplane retry ${notification('rejected').execution}\`; otherwise fix and push a new tag.`,
    );
    // A CLI decision reaches the approval message through this event.
    const approval = slack.messages(CHANNEL).find((m) => m.text.startsWith('Rejected:'));
    expect(JSON.stringify(approval?.blocks)).toContain(
      'Rejected by `arn:aws:iam::123456789012:user/alice` (CLI)',
    );
  });

  it('does not alert when a newer release superseded this one, and says so in the thread', async () => {
    const d = deps();
    const result = await notify(
      notification('superseded', {
        stage: 'production',
        detail: {
          Error: 'Shiplane.Superseded',
          Cause:
            'itdo-erp/backend v1.4.2 was not deployed to production: v1.4.3 is already there. environments/production/kustomization.yaml already pins itdo-erp/backend v1.4.3, newer than v1.4.2',
        },
      }),
      d,
    );
    expect(result).toEqual({ slack: 'posted', alert: 'skipped' });
    expect(sns.calls()).toHaveLength(0);
    expect(replies().at(-1)?.text).toBe(
      ':fast_forward: `v1.4.2` was not deployed to *production*: `v1.4.3` is already there. The run ended `Superseded`; nothing failed.',
    );
    expect(parents()[0]?.text).toBe('Superseded backend v1.4.2');
  });

  it('on expiry: marks the approval expired, removes its buttons, notes it in the thread and alerts', async () => {
    const d = deps();
    const request = approvalRequest();
    const { approvalId } = await requestApproval(request, d);
    d.clock.advance(request.timeoutSeconds);
    const result = await notify(
      notification('expired', { stage: 'production', detail: { Error: 'States.Timeout', Cause: '' } }),
      d,
    );
    expect(result).toEqual({ slack: 'posted', alert: 'published' });
    expect(await d.store.getApproval(approvalId)).toMatchObject({ status: 'expired' });
    const approval = slack.messages(CHANNEL).find((m) => m.text.startsWith('Approval expired:'));
    expect(JSON.stringify(approval?.blocks)).toContain(':hourglass: Expired');
    expect(JSON.stringify(approval?.blocks)).not.toContain('"actions"');
    expect(replies().at(-1)?.text).toContain('the approval expired and the run ended `Approval expired`');
    expect(JSON.stringify(parents()[0]?.blocks)).toContain('*production*  :hourglass: approval expired');
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(
      'Shiplane: backend v1.4.2 approval expired in production',
    );
  });

  it('does not fail when Slack is down: logs, counts, still alerts, and says what happened', async () => {
    const d = deps();
    slack.setDown(true);
    const result = await notify(
      notification('failed', { detail: { Error: 'Shiplane.CommitFailed', Cause: 'conflict' } }),
      d,
    );
    expect(result).toEqual({ slack: 'failed', alert: 'published' });
    expect(d.reporter.counts).toEqual(['SlackNotificationFailed']);
    // One attempt found Slack down; the rest of the notification did not wait on it again.
    expect(slack.calls()).toHaveLength(1);
    expect(d.reporter.lines.find((l) => l.level === 'error')).toMatchObject({
      message: 'Slack notification failed: updating the release thread',
      attributes: { error: 'SlackApiError', code: 'http_503' },
    });
  });

  it('does not fail when the alert topic refuses: logs and counts', async () => {
    const d = deps();
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));
    const result = await notify(notification('failed', { detail: { Error: 'E', Cause: 'c' } }), d);
    expect(result).toEqual({ slack: 'posted', alert: 'failed' });
    expect(d.reporter.counts).toEqual(['AlertPublishFailed']);
  });

  it('does not fail when the approvals table is unavailable', async () => {
    const d = deps();
    const broken = {
      ...d.store,
      getThread: async () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
      approvalIdFor: async () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
    };
    const result = await notify(notification('expired', { stage: 'production' }), { ...d, store: broken });
    expect(result).toEqual({ slack: 'failed', alert: 'published' });
    expect(d.reporter.counts).toEqual(['ApprovalsTableFailed', 'SlackNotificationFailed']);
  });
});
