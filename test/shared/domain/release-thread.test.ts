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
import { gitopsCommitUrl } from '../../../shared/domain/repo-url.js';
import { approvalRequest, notification, release } from '../../fixtures/slack/context.js';

const order = ['staging', 'production'];
const RUN = notification('started').execution;
const commitUrl = (sha: string) =>
  gitopsCommitUrl('https://api.github.com', 'itdo-erp/itdo-erp-infrastructure', sha);
const at = new Date('2026-11-26T14:00:00Z');
const SHA = '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
const stagingCommit = { commit: SHA, status: 'committed', previousTag: 'v1.4.1' };
const SUPERSEDED = {
  Error: 'Shiplane.Superseded',
  Cause:
    'itdo-erp/backend v1.4.2 was not deployed to production: v1.4.3 is already there. environments/production/kustomization.yaml already pins itdo-erp/backend v1.4.3, newer than v1.4.2',
};
const stagingHealth = approvalRequest().stages.staging as { health: unknown };

function run(events: Notification[]): ThreadState {
  return events.reduce(
    (state, event) => applyNotification(state, event, order, at),
    newThreadState(notification('started').execution, release(), at),
  );
}

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

describe('eventReply', () => {
  const state = run([notification('started')]);
  const reply = (n: Notification, decision?: Parameters<typeof eventReply>[4]) =>
    eventReply(state, n, order, commitUrl, decision);

  it('posts no reply for started: the parent message says it', () => {
    expect(reply(notification('started'))).toBeUndefined();
  });

  it('links the commit and the tag it replaced', () => {
    expect(reply(notification('committed', { stage: 'staging', detail: stagingCommit }))).toBe(
      `:memo: Committed \`v1.4.2\` to *staging*: <${commitUrl(SHA)}|\`9b1c2d3\`> (was \`v1.4.1\`).`,
    );
    expect(
      reply(
        notification('committed', { stage: 'staging', detail: { ...stagingCommit, status: 'unchanged' } }),
      ),
    ).toContain('already pins `v1.4.2`');
  });

  it('says how many checks it took to be healthy', () => {
    expect(reply(notification('healthy', { stage: 'staging', detail: stagingHealth.health }))).toBe(
      `:white_check_mark: *staging* is Synced and Healthy at <${commitUrl(SHA)}|\`9b1c2d3\`> after 3 checks.`,
    );
  });

  it('names who approved, from the decision the run received', () => {
    const detail = {
      decision: 'approved',
      approvalId: 'a1',
      by: 'U0PLATFORM1',
      at: '2026-11-26T14:02:00Z',
      via: 'slack',
    };
    expect(reply(notification('approved', { stage: 'production', detail }))).toBe(
      ':+1: Promotion of `v1.4.2` to *production* approved by <@U0PLATFORM1>.',
    );
  });

  it('gives the rejection reason', () => {
    const text = reply(notification('rejected', { stage: 'production' }), {
      by: 'arn:aws:iam::123456789012:user/alice',
      via: 'cli',
      reason: 'release freeze',
    });
    expect(text).toBe(
      `:no_entry: Promotion of \`v1.4.2\` to *production* rejected by \`arn:aws:iam::123456789012:user/alice\`: release freeze. The run ended \`Rejected\`.\n:point_right: Next: If it should go ahead after all, ask again with \`shiplane retry ${RUN}\`; otherwise fix and push a new tag.`,
    );
  });

  it('notes an expired approval', () => {
    expect(reply(notification('expired', { stage: 'production' }))).toContain(
      'the approval expired and the run ended `Approval expired`',
    );
  });

  it('says a superseded release was not deployed because a newer one is already there', () => {
    expect(reply(notification('superseded', { stage: 'production', detail: SUPERSEDED }))).toBe(
      ':fast_forward: `v1.4.2` was not deployed to *production*: `v1.4.3` is already there. The run ended `Superseded`; nothing failed.',
    );
    expect(
      reply(notification('superseded', { stage: 'production', detail: { Error: 'Shiplane.Superseded' } })),
    ).toContain('a newer release is already there');
  });

  it("gives a failure's error and the message of a Lambda error, not its stack", () => {
    const cause = JSON.stringify({
      errorType: 'GitHubConflictError',
      errorMessage: 'main moved 5 times while committing',
      trace: ['at commit (committer.ts:10)'],
    });
    const text = reply(notification('failed', { detail: { Error: 'GitHubConflictError', Cause: cause } }));
    expect(text).toBe(
      `:red_circle: Release failed in *staging*: \`GitHubConflictError\` main moved 5 times while committing\n:point_right: Next: Fix what the error says (GitHubConflictError), then \`shiplane retry ${RUN}\`.`,
    );
  });

  it('says a retry is a retry, in a reply and in the parent message', () => {
    const started = notification('started', {
      detail: { release: release(), retryOf: 'backend-v1.4.2-0123456789ab' },
    });

    expect(reply(started)).toBe(':repeat: This run is a retry of `backend-v1.4.2-0123456789ab`.');
    expect(parentLines(run([started]))).toContain(', a retry of `backend-v1.4.2-0123456789ab`');
    expect(parentLines(run([notification('started', { detail: { release: release() } })]))).not.toContain(
      'a retry of',
    );
  });

  it('tells what to do next when a stage is left Degraded: roll it back', () => {
    const text = reply(
      notification('degraded', {
        stage: 'staging',
        detail: {
          Error: 'Shiplane.Degraded',
          Cause: `staging is Degraded at ${SHA}: Deployment backend 0/3 ready`,
        },
      }),
    );

    expect(text?.split('\n')[1]).toBe(
      ':point_right: Next: Roll it back with `shiplane rollback backend --stage staging`, then fix and push a new tag.',
    );
  });

  it('tells what to do next after a health timeout, an expiry and a credentials failure', () => {
    const timedOut = reply(
      notification('timed-out', {
        stage: 'production',
        detail: { Error: 'Shiplane.HealthTimeout', Cause: 'slow' },
      }),
    );
    const expired = reply(
      notification('expired', { stage: 'production', detail: { Error: 'States.Timeout', Cause: '' } }),
    );
    const credentials = reply(
      notification('failed', {
        detail: {
          Error: 'Shiplane.CommitFailed',
          Cause:
            'Promote backend v1.4.2 to staging in itdo-erp/itdo-erp-infrastructure (branch main) failed with GitHubAuthError: GitHub rejected the credentials (401 Bad credentials)',
        },
      }),
    );

    expect(timedOut).toContain(`:point_right: Next: If it was only slow, \`shiplane retry ${RUN}\``);
    expect(expired).toContain(`:point_right: Next: Ask again with \`shiplane retry ${RUN}\`.`);
    expect(credentials).toContain(
      `:point_right: Next: Fix the GitHub token (gitops.github) in Secrets Manager, then \`shiplane retry ${RUN}\`.`,
    );
  });

  it('gives no next step for a deployed or superseded run', () => {
    expect(reply(notification('deployed', { detail: {} }))).not.toContain('Next:');
    expect(reply(notification('superseded', { stage: 'production', detail: SUPERSEDED }))).not.toContain(
      'Next:',
    );
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
