import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackServer, startSlackServer } from '../../../../local/stand-ins/slack/server.js';
import { slackLimitViolations } from '../../../../shared/adapters/slack/approval-message.js';
import { slackChat } from '../../../../shared/adapters/slack/chat.js';
import { eventReply } from '../../../../shared/adapters/slack/release-thread-message.js';
import { slackWebApi } from '../../../../shared/adapters/slack/web-api.js';
import type { TaskTokens } from '../../../../shared/ports/task-tokens.js';
import {
  APPROVAL_RETENTION_SECONDS,
  approvalIdFor,
  type RequestApprovalDeps,
  requestApproval,
} from '../../../../shared/steps/approval/request.js';
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

/** Deps for requestApproval, and for notify too (its chat also replies in the thread). */
function deps(overrides: Partial<RequestApprovalDeps & Pick<NotifyDeps, 'chat'>> = {}) {
  const clock = manualClock();
  const reporter = recordingReporter();
  const store = approvalsTable.store();
  const value: RequestApprovalDeps & Pick<NotifyDeps, 'chat'> = {
    store,
    chat: slackChat(
      slackWebApi({ apiUrl: slack.apiUrl, token: async () => BOT_TOKEN, retries: 0 }),
      eventReply,
    ),
    images: async () => ({ pushedAt: '2026-11-26T13:40:00.000Z', sizeBytes: 52_000_000 }),
    ...threadSettings(testConfig(slack.apiUrl)),
    now: clock.now,
    reporter,
    ...overrides,
  };
  return { ...value, reporter, clock };
}

const buttonsOf = (blocks: unknown[] | undefined) =>
  (blocks ?? []).flatMap((b) =>
    (b as { type: string }).type === 'actions' ? (b as { elements: unknown[] }).elements : [],
  );

describe('requestApproval', () => {
  it('starts the release thread when there is none and posts the approval in it', async () => {
    const d = deps();
    const request = approvalRequest();
    const result = await requestApproval(request, d);
    expect(result).toEqual({ approvalId: approvalIdFor(request.taskToken), message: 'posted' });
    const [parent, approval, ...rest] = slack.messages(CHANNEL);
    expect(rest).toEqual([]);
    expect(parent?.thread_ts).toBeUndefined();
    expect(approval?.thread_ts).toBe(parent?.ts);
    expect(approval?.text).toBe('Approval needed: backend v1.4.2 → production');
    expect(JSON.stringify(parent?.blocks)).toContain('*production*  :raised_hand: awaiting approval');
  });

  it('posts in the existing thread of the run', async () => {
    const d = deps();
    await notify(notification('started'), d);
    const [parent] = slack.messages(CHANNEL);
    await requestApproval(approvalRequest(), d);
    expect(slack.messages(CHANNEL).filter((m) => !m.thread_ts)).toEqual([
      expect.objectContaining({ ts: parent?.ts }),
    ]);
    expect(slack.thread(CHANNEL, parent?.ts ?? '')).toHaveLength(2);
  });

  it('keeps the task token in the table and only the approval id in the buttons', async () => {
    const d = deps();
    const request = approvalRequest();
    const { approvalId } = await requestApproval(request, d);
    const record = await d.store.getApproval(approvalId);
    const deadline = Math.floor(d.clock.now().getTime() / 1000) + request.timeoutSeconds;
    expect(record).toMatchObject({
      taskToken: request.taskToken,
      status: 'pending',
      execution: request.execution,
      stage: 'production',
      approvers: ['U0PLATFORM1', 'S0PLATFORMGRP'],
      deadline,
      expiresAt: deadline + APPROVAL_RETENTION_SECONDS,
      message: { channel: CHANNEL },
    });
    expect(await d.store.approvalIdFor(request.execution, 'production')).toBe(approvalId);
    const approval = slack.messages(CHANNEL)[1];
    expect(buttonsOf(approval?.blocks).map((b) => (b as { value: string }).value)).toEqual([
      approvalId,
      approvalId,
    ]);
    expect(JSON.stringify(slack.messages())).not.toContain(request.taskToken);
    expect(approvalId).toMatch(/^[0-9a-f]{24}$/);
  });

  it('shows the version the stage ran before, the staging history and the image', async () => {
    const d = deps();
    await d.store.recordDeployedTag('backend', 'production', {
      tag: 'v1.4.1',
      digest: 'sha256:old',
      execution: 'backend-v1.4.1-0000',
      at: '2026-11-20T10:00:00Z',
    });
    await requestApproval(approvalRequest(), d);
    const approval = slack.messages(CHANNEL)[1];
    const text = JSON.stringify(approval?.blocks);
    expect(text).toContain('`v1.4.1` → `v1.4.2`');
    expect(text).toContain('*staging* healthy since');
    expect(text).toContain('52.0 MB');
    expect(slackLimitViolations({ text: approval?.text ?? '', blocks: approval?.blocks as never })).toEqual(
      [],
    );
  });

  it('asks to roll back for a manual rollback run: from → to, why and who asked, in place of the last deployed tag', async () => {
    const d = deps();
    await d.store.recordDeployedTag('backend', 'production', {
      tag: 'v1.4.2',
      digest: 'sha256:new',
      execution: 'backend-v1.4.2-0000',
      at: '2026-11-25T10:00:00Z',
    });
    const request = approvalRequest({
      release: { ...approvalRequest().release, tag: 'v1.4.0' },
      rollback: {
        stage: 'production',
        from: { tag: 'v1.4.2-bad' },
        reason: 'checkout errors since v1.4.2-bad',
        by: 'arn:aws:iam::123456789012:user/aiko',
      },
    });

    const { approvalId } = await requestApproval(request, d);

    const approval = slack.messages(CHANNEL)[1];
    expect(approval?.text).toBe('Approval needed: roll back backend in production v1.4.2-bad → v1.4.0');
    const text = JSON.stringify(approval?.blocks);
    expect(text).toContain('Roll back backend in production to v1.4.0?');
    expect(text).toContain('`v1.4.2-bad` → `v1.4.0`');
    expect(text).toContain('checkout errors since v1.4.2-bad');
    expect(text).toContain('asked by `arn:aws:iam::123456789012:user/aiko`');
    expect((await d.store.getApproval(approvalId))?.facts).toMatchObject({
      previousTag: 'v1.4.2-bad',
      rollback: { reason: 'checkout errors since v1.4.2-bad', by: 'arn:aws:iam::123456789012:user/aiko' },
    });
  });

  it('does not post twice when the task is retried with the same token', async () => {
    const d = deps();
    const first = await requestApproval(approvalRequest(), d);
    const second = await requestApproval(approvalRequest(), d);
    expect(second).toEqual({ approvalId: first.approvalId, message: 'already-posted' });
    expect(slack.messages(CHANNEL)).toHaveLength(2);
  });

  it("supersedes the run's earlier approval for the stage and says so on its message", async () => {
    const d = deps();
    const first = await requestApproval(approvalRequest(), d);
    await requestApproval(approvalRequest({ taskToken: 'a-new-task-token-after-redrive' }), d);
    expect((await d.store.getApproval(first.approvalId))?.status).toBe('superseded');
    const old = slack.messages(CHANNEL)[1];
    expect(buttonsOf(old?.blocks)).toEqual([]);
    expect(JSON.stringify(old?.blocks)).toContain('Superseded');
  });

  describe('a newer release of the app awaiting approval at the same stage', () => {
    const older = () =>
      approvalRequest({ execution: 'backend-v2-1-6-run', taskToken: 'token-of-the-v2.1.6-run' });
    const newer = () =>
      approvalRequest({
        execution: 'backend-v2-1-7-run',
        taskToken: 'token-of-the-v2.1.7-run',
        release: { ...approvalRequest().release, tag: 'v2.1.7' },
      });
    const withTags = (request: ReturnType<typeof older>, tag: string) => ({
      ...request,
      release: { ...request.release, tag },
    });
    function recordingTokens(failWith?: Error) {
      const failed: Array<{ token: string; error: string; cause: string }> = [];
      const tokens: TaskTokens = {
        succeed: async () => Promise.reject(new Error('nothing is approved here')),
        fail: async (token, error, cause) => {
          failed.push({ token, error, cause });
          if (failWith) throw failWith;
        },
      };
      return { tokens, failed };
    }
    const messageWith = (text: string) => slack.messages(CHANNEL).find((m) => m.text === text);

    it("closes the older run's approval: table superseded, task failed, message without buttons", async () => {
      const { tokens, failed } = recordingTokens();
      const d = deps({ taskTokens: tokens });
      const first = await requestApproval(withTags(older(), 'v2.1.6'), d);
      d.clock.advance(60);
      const second = await requestApproval(newer(), d);
      expect(second.message).toBe('posted');
      expect(await d.store.getApproval(first.approvalId)).toMatchObject({
        status: 'superseded',
        closedAt: d.clock.now().toISOString(),
      });
      expect((await d.store.getApproval(second.approvalId))?.status).toBe('pending');
      expect(failed).toEqual([
        {
          token: 'token-of-the-v2.1.6-run',
          error: 'Shiplane.Superseded',
          cause: 'backend v2.1.6 was superseded at production by v2.1.7 awaiting approval',
        },
      ]);
      const old = messageWith('Approval superseded: backend v2.1.6 → production');
      expect(buttonsOf(old?.blocks)).toEqual([]);
      expect(JSON.stringify(old?.blocks)).toContain('Superseded by `v2.1.7`');
      expect(buttonsOf(messageWith('Approval needed: backend v2.1.7 → production')?.blocks)).toHaveLength(2);
    });

    it('keeps a manual rollback apart: it supersedes no release awaiting approval, and none supersedes it', async () => {
      const { tokens, failed } = recordingTokens();
      const d = deps({ taskTokens: tokens });
      const rollback = approvalRequest({
        execution: 'backend-production-rollback-v2.1.5-1',
        taskToken: 'token-of-the-rollback',
        release: { ...approvalRequest().release, tag: 'v2.1.5' },
        rollback: { stage: 'production', from: { tag: 'v2.1.6' }, reason: 'checkout errors' },
      });
      const pending = await requestApproval(withTags(older(), 'v2.1.4'), d);
      const asked = await requestApproval(rollback, d);
      await requestApproval(newer(), d);

      expect((await d.store.getApproval(asked.approvalId))?.status).toBe('pending');
      expect(failed.map((f) => f.token)).toEqual(['token-of-the-v2.1.6-run']);
      expect((await d.store.getApproval(pending.approvalId))?.status).toBe('superseded');
    });

    it('leaves a newer release awaiting approval alone when an older one asks after it', async () => {
      const { tokens, failed } = recordingTokens();
      const d = deps({ taskTokens: tokens });
      const first = await requestApproval(newer(), d);
      await requestApproval(withTags(older(), 'v2.1.6'), d);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('pending');
      expect(failed).toEqual([]);
    });

    it('leaves an older approval that is no longer pending alone', async () => {
      const { tokens, failed } = recordingTokens();
      const d = deps({ taskTokens: tokens });
      const first = await requestApproval(withTags(older(), 'v2.1.6'), d);
      await d.store.closeApproval(first.approvalId, ['pending'], 'expired', d.clock.now().toISOString());
      await requestApproval(newer(), d);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('expired');
      expect(failed).toEqual([]);
    });

    it('orders tags without a version by when they were requested', async () => {
      const { tokens, failed } = recordingTokens();
      const d = deps({ taskTokens: tokens });
      const first = await requestApproval(withTags(older(), 'main-abc1234'), d);
      d.clock.advance(60);
      await requestApproval(withTags(newer(), 'main-def5678'), d);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('superseded');
      expect(failed.map((f) => f.token)).toEqual(['token-of-the-v2.1.6-run']);
    });

    it('ignores a run that stopped waiting already', async () => {
      const gone = Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
      const { tokens } = recordingTokens(gone);
      const d = deps({ taskTokens: tokens });
      const first = await requestApproval(withTags(older(), 'v2.1.6'), d);
      await requestApproval(newer(), d);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('superseded');
      expect(d.reporter.lines.filter((l) => l.level === 'warn')).toEqual([]);
    });

    const noWait = { baseDelayMs: 0, sleep: async () => undefined };
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    it('retries a SendTaskFailure that fails, with backoff, and then closes the older approval', async () => {
      let calls = 0;
      const sleeps: number[] = [];
      const tokens: TaskTokens = {
        succeed: async () => Promise.reject(new Error('nothing is approved here')),
        fail: async () => {
          calls += 1;
          if (calls < 3) throw throttled();
        },
      };
      const d = deps({
        taskTokens: tokens,
        supersedeRetry: { baseDelayMs: 100, sleep: async (ms) => void sleeps.push(ms) },
      });
      const first = await requestApproval(withTags(older(), 'v2.1.6'), d);
      const second = await requestApproval(newer(), d);
      expect(second.message).toBe('posted');
      expect(calls).toBe(3);
      expect(sleeps).toEqual([100, 200]);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('superseded');
    });

    it('leaves the older approval pending, like its run, when it cannot be told, and a retried request finishes the job', async () => {
      const { tokens, failed } = recordingTokens(throttled());
      const d = deps({ taskTokens: tokens, supersedeRetry: noWait });
      const first = await requestApproval(withTags(older(), 'v2.1.6'), d);
      const second = await requestApproval(newer(), d);

      // Four attempts, then the older run is still waiting: the table says pending, not superseded,
      // its buttons still work, and this approval remembers what it has to finish.
      expect(second.message).toBe('posted');
      expect(failed).toHaveLength(4);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('pending');
      expect(buttonsOf(messageWith('Approval needed: backend v2.1.6 → production')?.blocks)).toHaveLength(2);
      expect((await d.store.getApproval(second.approvalId))?.supersedes).toBe(first.approvalId);
      expect(d.reporter.lines.find((l) => l.level === 'error')?.message).toMatch(
        /^could not tell the older release it was superseded/,
      );
      expect(JSON.stringify(d.reporter.lines)).not.toContain('token-of-the-v2.1.6-run');

      // Step Functions retries the request-approval invocation (same token): it finishes the job.
      const working = recordingTokens();
      const retried = await requestApproval(newer(), { ...d, taskTokens: working.tokens });
      expect(retried.message).toBe('already-posted');
      expect(working.failed.map((f) => [f.token, f.error])).toEqual([
        ['token-of-the-v2.1.6-run', 'Shiplane.Superseded'],
      ]);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('superseded');
      expect(buttonsOf(messageWith('Approval superseded: backend v2.1.6 → production')?.blocks)).toEqual([]);

      // Once done, a further retry has nothing left to do.
      const again = recordingTokens();
      await requestApproval(newer(), { ...d, taskTokens: again.tokens });
      expect(again.failed).toEqual([]);
    });

    it('counts a token that is already over as told when a retry finds the older run gone', async () => {
      const { tokens } = recordingTokens(throttled());
      const d = deps({ taskTokens: tokens, supersedeRetry: noWait });
      const first = await requestApproval(withTags(older(), 'v2.1.6'), d);
      await requestApproval(newer(), d);
      // The first attempts did land after all (or the run timed out): SendTaskFailure says TaskDoesNotExist.
      const gone = recordingTokens(Object.assign(new Error('gone'), { name: 'TaskDoesNotExist' }));
      await requestApproval(newer(), { ...d, taskTokens: gone.tokens });
      expect(gone.failed).toHaveLength(1);
      expect((await d.store.getApproval(first.approvalId))?.status).toBe('superseded');
    });

    it('still posts the new approval when superseding the older one fails', async () => {
      const { tokens } = recordingTokens(new Error('ServiceUnavailable'));
      const d = deps({ taskTokens: tokens, supersedeRetry: noWait });
      await requestApproval(withTags(older(), 'v2.1.6'), d);
      const second = await requestApproval(newer(), d);
      expect(second.message).toBe('posted');
      expect(d.reporter.lines.find((l) => l.level === 'error')?.message).toMatch(
        /^could not tell the older release it was superseded/,
      );

      const broken = deps({
        taskTokens: recordingTokens().tokens,
        store: {
          // A table of its own: the newer approval is not in it yet.
          ...approvalsTable.store(await approvalsTable.newTable()),
          pointToPendingApproval: async () => Promise.reject(new Error('ProvisionedThroughputExceeded')),
        },
      });
      expect((await requestApproval(newer(), broken)).message).toBe('posted');
      expect(broken.reporter.lines.find((l) => l.level === 'warn')?.message).toBe(
        'could not record the pending approval of the stage',
      );
    });
  });

  it('keeps the approval pending and does not fail the run when Slack is down', async () => {
    const d = deps();
    slack.setDown(true);
    const result = await requestApproval(approvalRequest(), d);
    expect(result.message).toBe('failed');
    expect(await d.store.getApproval(result.approvalId)).toMatchObject({ status: 'pending' });
    expect(d.reporter.counts).toEqual(['ApprovalMessageFailed']);
    expect(d.reporter.lines.find((l) => l.level === 'error')?.message).toContain('shiplane approve');
  });

  it('fails when the approval cannot be stored: nobody could decide it', async () => {
    const store = approvalsTable.store();
    const failing = {
      ...store,
      createApproval: async () => Promise.reject(new Error('ResourceNotFoundException')),
    };
    await expect(requestApproval(approvalRequest(), deps({ store: failing }))).rejects.toThrow(
      'ResourceNotFound',
    );
    expect(slack.messages()).toEqual([]);
  });
});
