import { describe, expect, it } from 'vitest';
import { slackLimitViolations } from '../../../shared/adapters/slack/approval-message.js';
import { eventReply, releaseParentMessage } from '../../../shared/adapters/slack/release-thread-message.js';
import type { Notification } from '../../../shared/contracts/tasks.js';
import {
  ALERT_EVENTS,
  alertFor,
  applyNotification,
  newThreadState,
  runErrorOf,
  stageOfEvent,
  type ThreadState,
} from '../../../shared/domain/release-thread.js';
import { approvalRequest, notification, release } from '../../fixtures/slack/context.js';
import {
  at,
  commitUrl,
  order,
  run,
  SHA,
  SUPERSEDED,
  stagingCommit,
  stagingHealth,
} from './release-thread-fixtures.js';

const parentLines = (state: ThreadState) =>
  JSON.stringify(releaseParentMessage(state, order, commitUrl).blocks);

describe('the release thread state', () => {
  it('shows every configured stage, not started ones included', () => {
    const text = parentLines(run([notification('started')]));
    expect(text).toContain('*staging*  :white_circle: not started');
    expect(text).toContain('*production*  :white_circle: not started');
    expect(text).toContain(':rocket: Releasing backend v1.4.2');
  });

  it('moves a stage through committed, healthy and approval', () => {
    const state = run([
      notification('started'),
      notification('committed', { stage: 'staging', detail: stagingCommit }),
      notification('healthy', { stage: 'staging', detail: stagingHealth.health }),
      notification('approval-requested', { stage: 'production' }),
    ]);
    expect(state.stages.staging).toMatchObject({ status: 'healthy', commit: SHA });
    expect(state.stages.production).toMatchObject({ status: 'awaiting-approval' });
    const text = parentLines(state);
    expect(text).toContain(`*staging*  :white_check_mark: healthy at <${commitUrl(SHA)}|\`9b1c2d3\`>`);
    expect(text).toContain('*production*  :raised_hand: awaiting approval');
    expect(state.outcome).toBeUndefined();
  });

  it('ends with the outcome of the run', () => {
    expect(run([notification('deployed', { detail: {} })]).outcome).toBe('deployed');
    expect(run([notification('rejected', { stage: 'production' })]).outcome).toBe('rejected');
    expect(run([notification('expired', { stage: 'production' })]).outcome).toBe('expired');
    const degraded = run([
      notification('degraded', {
        stage: 'staging',
        detail: {
          Error: 'Shiplane.Degraded',
          Cause: `staging is Degraded at ${SHA}: Deployment backend 0/3 ready`,
        },
      }),
    ]);
    expect(degraded.outcome).toBe('failed');
    expect(degraded.stages.staging).toMatchObject({
      status: 'degraded',
      note: `staging is Degraded at ${SHA}: Deployment backend 0/3 ready`,
    });
    expect(parentLines(degraded)).toContain(':red_circle: Failed to release backend v1.4.2');
  });

  it('ends superseded, not failed, when a newer release is already in the stage', () => {
    const state = run([notification('superseded', { stage: 'production', detail: SUPERSEDED })]);
    expect(state.outcome).toBe('superseded');
    expect(state.stages.production).toMatchObject({ status: 'superseded', note: 'v1.4.3 is already there' });
    const text = parentLines(state);
    expect(text).toContain(':fast_forward: Superseded backend v1.4.2');
    expect(text).toContain('*production*  :fast_forward: superseded, not deployed (v1.4.3 is already there)');
  });

  it('puts a failure without a stage on the stage that was in progress', () => {
    const failed = notification('failed', { detail: { Error: 'Shiplane.CommitFailed', Cause: 'conflict' } });
    const inStaging = run([notification('committed', { stage: 'staging', detail: stagingCommit })]);
    expect(stageOfEvent(inStaging, failed, order)).toBe('staging');
    const afterStaging = run([notification('healthy', { stage: 'staging', detail: stagingHealth.health })]);
    expect(stageOfEvent(afterStaging, failed, order)).toBe('production');
    expect(stageOfEvent(run([]), failed, order)).toBe('staging');
  });

  it('builds a parent message within Slack limits', () => {
    const state = run([
      notification('committed', { stage: 'staging', detail: stagingCommit }),
      notification('failed', { detail: { Error: 'X', Cause: 'y'.repeat(50_000) } }),
    ]);
    expect(slackLimitViolations(releaseParentMessage(state, order, commitUrl))).toEqual([]);
  });
});

describe('alertFor', () => {
  const state = run([notification('started')]);

  it('alerts on failures, degraded health, health timeouts, expired approvals and rollbacks', () => {
    expect([...ALERT_EVENTS].sort()).toEqual(['degraded', 'expired', 'failed', 'rolled-back', 'timed-out']);
    const alert = alertFor(
      state,
      notification('timed-out', {
        stage: 'production',
        detail: {
          Error: 'Shiplane.HealthTimeout',
          Cause: 'production still Progressing after 15m: 1/3 ready',
        },
      }),
      order,
    );
    expect(alert?.subject).toBe('Shiplane: backend v1.4.2 not healthy in time in production');
    expect(alert?.message).toContain('Cause: production still Progressing after 15m: 1/3 ready');
    expect(alert?.message).toContain(`Execution: ${approvalRequest().execution}`);
  });

  it('does not alert on a rejection: it is a decision, not trouble', () => {
    expect(alertFor(state, notification('rejected', { stage: 'production' }), order)).toBeUndefined();
    expect(alertFor(state, notification('deployed'), order)).toBeUndefined();
    expect(
      alertFor(state, notification('superseded', { stage: 'production', detail: SUPERSEDED }), order),
    ).toBeUndefined();
  });

  it('keeps the subject to one ASCII line of at most 100 characters', () => {
    const long = { ...release(), app: 'ä'.repeat(30), tag: `v1\n${'9'.repeat(120)}` };
    const alert = alertFor({ ...state, release: long }, { ...notification('failed'), release: long }, order);
    expect(alert?.subject.length).toBeLessThanOrEqual(100);
    expect(alert?.subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('runErrorOf', () => {
  it('reads plain and Lambda-JSON causes, and nothing else', () => {
    expect(runErrorOf({ Error: 'Shiplane.Rejected', Cause: 'Rejected by alice' })).toEqual({
      error: 'Shiplane.Rejected',
      cause: 'Rejected by alice',
    });
    expect(runErrorOf({ Error: 'E', Cause: '{"errorMessage":"boom"}' })).toEqual({
      error: 'E',
      cause: 'boom',
    });
    expect(runErrorOf({ status: 'healthy' })).toBeUndefined();
    expect(runErrorOf(undefined)).toBeUndefined();
  });
});

describe('a rollback in the release thread', () => {
  const ROLLBACK_SHA = 'c0ffee0c0ffee0c0ffee0c0ffee0c0ffee0c0ffe';
  const reason = `staging is Degraded at ${SHA}: Deployment "backend" exceeded its progress deadline`;
  const rollingBack = { target: { tag: 'v1.4.1' }, pinDigest: false, error: 'Shiplane.Degraded', reason };
  const rolledBack = {
    ...rollingBack,
    commit: { commit: ROLLBACK_SHA, status: 'committed', previousTag: 'v1.4.2', previousDigest: null },
  };
  const events = [
    notification('started'),
    notification('committed', { stage: 'staging', detail: stagingCommit }),
    notification('rolling-back', { stage: 'staging', detail: rollingBack }),
  ];

  it('says the stage is rolling back, and why, without an alert', () => {
    const state = run(events);
    const reply = eventReply(state, events[2]!, order, commitUrl);

    expect(reply).toBe(
      `:rewind: *staging* is not healthy on \`v1.4.2\`: ${reason}. Rolling back to \`v1.4.1\`.`,
    );
    expect(state.stages.staging).toMatchObject({ status: 'rolling-back', commit: SHA });
    expect(parentLines(state)).toContain('*staging*  :rewind: degraded, rolling back');
    expect(alertFor(state, events[2]!, order)).toBeUndefined();
  });

  it('ends the thread Rolled back at the rollback commit, with the reason, and raises one alert', () => {
    const done = notification('rolled-back', { stage: 'staging', detail: rolledBack });
    const state = run([...events, done]);

    const [said, next] = (eventReply(state, done, order, commitUrl) ?? '').split('\n');
    expect(said).toBe(
      `:rewind: *staging* rolled back to \`v1.4.1\` at <${commitUrl(ROLLBACK_SHA)}|\`c0ffee0\`>, Synced and Healthy again. \`v1.4.2\` was taken out: ${reason}. The run ended \`Rolled back\`.`,
    );
    expect(next).toMatch(/^:point_right: Next: staging is back on/);
    expect(state.outcome).toBe('rolled-back');
    expect(state.stages.staging).toMatchObject({ status: 'rolled-back', commit: ROLLBACK_SHA });
    expect(parentLines(state)).toContain(':rewind: Rolled back backend v1.4.2');
    expect(parentLines(state)).toContain('rolled back to v1.4.1');
    const alert = alertFor(state, done, order);
    expect(alert?.subject).toBe('Shiplane: backend v1.4.2 rolled back in staging');
    expect(alert?.message).toContain(`Rolled back to: v1.4.1 at commit ${ROLLBACK_SHA}`);
    expect(alert?.message).toContain(`Reason: ${reason}`);
  });
});

describe('the thread of a manual rollback run', () => {
  const back = { ...release(), tag: 'v1.4.0' };
  const asked = {
    stage: 'production',
    from: { tag: 'v1.4.2' },
    reason: 'checkout errors since v1.4.2',
    by: 'arn:aws:iam::123456789012:user/aiko',
  };
  const ev = (event: Notification['event'], extra: Partial<Notification> = {}) =>
    notification(event, { execution: 'backend-production-rollback-v1.4.0-1', release: back, ...extra });
  const started = ev('started', { detail: { release: back, rollback: asked, stages: {} } });
  const replay = (events: Notification[]) =>
    events.reduce(
      (state, event) => applyNotification(state, event, order, at),
      newThreadState('backend-production-rollback-v1.4.0-1', back, at),
    );

  it('is about the one stage: from → to, why and who asked', () => {
    const state = replay([started]);
    expect(state.rollback).toEqual({
      stage: 'production',
      fromTag: 'v1.4.2',
      reason: 'checkout errors since v1.4.2',
      by: 'arn:aws:iam::123456789012:user/aiko',
    });
    const parent = releaseParentMessage(state, order, commitUrl);
    expect(parent.text).toBe('Rolling back backend in production: v1.4.2 → v1.4.0');
    const text = JSON.stringify(parent.blocks);
    expect(text).toContain(
      'Manual rollback asked by `arn:aws:iam::123456789012:user/aiko`: checkout errors since v1.4.2',
    );
    expect(text).toContain('*production*  :white_circle: not started');
    expect(text).not.toContain('*staging*');
    expect(eventReply(state, started, order, commitUrl)).toBe(
      ':rewind: Manual rollback of *production* from `v1.4.2` to `v1.4.0`, asked by `arn:aws:iam::123456789012:user/aiko`: checkout errors since v1.4.2. Only production changes.',
    );
    expect(slackLimitViolations(parent)).toEqual([]);
  });

  it('asks, approves and ends in words of a rollback', () => {
    const events = [
      started,
      ev('approval-requested', { stage: 'production' }),
      ev('approved', {
        stage: 'production',
        detail: {
          decision: 'approved',
          approvalId: 'a1',
          by: 'U0PLATFORM1',
          at: at.toISOString(),
          via: 'slack',
        },
      }),
      ev('committed', {
        stage: 'production',
        detail: { commit: SHA, status: 'committed', previousTag: 'v1.4.2' },
      }),
      ev('deployed', { detail: {} }),
    ];
    const state = replay(events);
    const replies = events.map((event, i) =>
      eventReply(replay(events.slice(0, i + 1)), event, order, commitUrl),
    );
    expect(replies[1]).toBe(':raised_hand: Approval requested to roll back *production* to `v1.4.0`.');
    expect(replies[2]).toBe(':+1: Rollback of *production* to `v1.4.0` approved by <@U0PLATFORM1>.');
    expect(replies[4]).toBe(
      ':rewind: *production* is rolled back to `v1.4.0`, Synced and Healthy. Nothing else changed.',
    );
    expect(releaseParentMessage(state, order, commitUrl).text).toBe(
      'Rolled back backend in production: v1.4.2 → v1.4.0',
    );
  });

  it('alerts on a failed rollback as a rollback, on the stage it rolls back', () => {
    const failed = ev('failed', { detail: { Error: 'Shiplane.CommitFailed', Cause: 'GitHub said no' } });
    const state = replay([started, failed]);
    expect(stageOfEvent(state, failed, order)).toBe('production');
    const alert = alertFor(state, failed, order);
    expect(alert?.subject).toBe('Shiplane: rollback of backend v1.4.0 failed in production');
    expect(alert?.message).toContain(
      'Manual rollback of production from v1.4.2 to v1.4.0, asked by arn:aws:iam::123456789012:user/aiko: checkout errors since v1.4.2',
    );
  });
});
