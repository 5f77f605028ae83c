/** The release thread drawn in Slack: one reply per event. */
import { describe, expect, it } from 'vitest';
import {
  eventReply,
  releaseParentMessage,
} from '../../../../shared/adapters/slack/release-thread-message.js';
import type { Notification } from '../../../../shared/contracts/tasks.js';
import type { ThreadState } from '../../../../shared/domain/release-thread.js';
import { notification, release } from '../../../fixtures/slack/context.js';
import {
  commitUrl,
  order,
  RUN,
  run,
  SHA,
  SUPERSEDED,
  stagingCommit,
  stagingHealth,
} from '../../domain/release-thread-fixtures.js';

const parentLines = (state: ThreadState) =>
  JSON.stringify(releaseParentMessage(state, order, commitUrl).blocks);

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
