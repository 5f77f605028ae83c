/** The release thread of a stage with `pullRequest`: the pull request's link, who merged it, how it ended. */
import { describe, expect, it } from 'vitest';
import { eventReply } from '../../../../shared/adapters/slack/release-thread-message.js';
import { ERRORS, type PullRequestAnswer } from '../../../../shared/contracts/tasks.js';
import { alertFor } from '../../../../shared/domain/release-thread.js';
import { notification } from '../../../fixtures/slack/context.js';
import { commitUrl, order, run } from '../../domain/release-thread-fixtures.js';

const MERGE = 'c'.repeat(40);
const opened = (merge: 'auto' | 'manual'): PullRequestAnswer => ({
  state: 'open',
  message: '#12 opened',
  number: 12,
  url: 'https://github.com/itdo-erp/itdo-erp-infrastructure/pull/12',
  repository: 'itdo-erp/itdo-erp-infrastructure',
  branch: 'shiplane/backend/production/v1.4.2',
  headCommit: 'd'.repeat(40),
  base: 'main',
  merge,
  openedAt: '2026-12-02T10:00:00.000Z',
  deadline: '2026-12-03T10:00:00.000Z',
  waitSeconds: 30,
  previousTag: 'v1.4.1',
  previousDigest: null,
  checkedAt: '2026-12-02T10:00:00.000Z',
});

describe('the thread of a pull-request stage', () => {
  const state = run([notification('started')]);

  it('links the pull request when it opens, and says who merges it', () => {
    const auto = eventReply(
      state,
      notification('pull-request', { stage: 'production', detail: opened('auto') }),
      order,
      commitUrl,
    );
    const manual = eventReply(
      state,
      notification('pull-request', { stage: 'production', detail: opened('manual') }),
      order,
      commitUrl,
    );

    expect(auto).toBe(
      ':twisted_rightwards_arrows: Pull request <https://github.com/itdo-erp/itdo-erp-infrastructure/pull/12|#12> opened to promote `v1.4.2` to *production*. Shiplane merges it once GitHub allows (required reviews and checks).',
    );
    expect(manual).toMatch(/It waits for a person to merge it\.$/);
  });

  it('says that the recovery waits for a merge when the rollback of a manual-merge stage is a pull request', () => {
    const rollingBack = { ...opened('manual'), branch: 'shiplane/backend/production/rollback/v1.4.1' };
    const text = eventReply(
      state,
      notification('pull-request', { stage: 'production', detail: rollingBack }),
      order,
      commitUrl,
    );

    expect(text).toMatch(
      /opened to roll back \*production\* from `v1\.4\.2`\. The recovery waits for a person to merge it\.$/,
    );
  });

  it('posts nothing for an answer that opened no pull request', () => {
    const unchanged = { ...opened('auto'), state: 'unchanged' as const, number: undefined };
    expect(
      eventReply(
        state,
        notification('pull-request', { stage: 'production', detail: unchanged }),
        order,
        commitUrl,
      ),
    ).toBeUndefined();
  });

  it('names the pull request and who merged it on the committed line', () => {
    const detail = {
      commit: MERGE,
      status: 'committed',
      previousTag: 'v1.4.1',
      previousDigest: null,
      pullRequest: 12,
      pullRequestUrl: 'https://github.com/itdo-erp/itdo-erp-infrastructure/pull/12',
      mergedBy: 'erp-lead',
    };
    const text = eventReply(
      state,
      notification('committed', { stage: 'production', detail }),
      order,
      commitUrl,
    );

    expect(text).toMatch(
      /^:memo: Pull request <https:\/\/github\.com\/itdo-erp\/itdo-erp-infrastructure\/pull\/12\|#12> merged by `erp-lead`: `v1\.4\.2` is in \*production\* at /,
    );
    expect(text).toContain('(was `v1.4.1`)');
  });

  it('says an expired pull request, not an approval, expired — in the thread and in the alert', () => {
    const expired = notification('expired', {
      stage: 'production',
      detail: {
        Error: ERRORS.pullRequestExpired,
        Cause: '#12 was not merged within 24h; Shiplane closed it and production was not changed',
      },
    });

    const reply = eventReply(state, expired, order, commitUrl);
    expect(reply).toMatch(/^:hourglass: #12 was not merged within 24h; Shiplane closed it/);
    expect(reply).toMatch(/:point_right: Next: `shiplane retry .*` opens a new one/);
    const alert = alertFor(state, expired, order);
    expect(alert?.subject).toBe('Shiplane: backend v1.4.2 pull request expired in production');
    expect(alert?.message).not.toContain('Nobody approved');
  });
});
