/**
 * Commit links with several repositories (issue 13): the release thread, its replies and the approval's
 * stage history link each commit into the repository that stage's commit for the run's app went to
 * (config/tag-location.ts), not `gitops.repository`; a stage or app the config does not have gets no
 * link rather than a wrong one.
 */
import { describe, expect, it } from 'vitest';
import {
  eventReply,
  releaseParentMessage,
} from '../../../../shared/adapters/slack/release-thread-message.js';
import { stageHistory } from '../../../../shared/domain/approval.js';
import { applyNotification, newThreadState } from '../../../../shared/domain/release-thread.js';
import { threadSettings } from '../../../../shared/steps/notify/thread.js';
import { notification, release } from '../../../fixtures/slack/context.js';
import { severalRepositoriesConfig } from '../commit/several-repositories.js';

const { commitUrl, stageOrder } = threadSettings(severalRepositoriesConfig());
const STAGING_SHA = '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
const PRODUCTION_SHA = '4d5e6f7a8b9c9b1c2d3e4f5a6b7c8d9e0f1a2b3c';
const at = new Date('2026-11-26T14:00:00Z');
const web = (repository: string, sha: string) => `https://github.com/${repository}/commit/${sha}`;

describe('commit links into the repository each commit went to', () => {
  it('resolves the repository per app and stage', () => {
    expect(commitUrl(STAGING_SHA, { app: 'backend', stage: 'staging' })).toBe(
      web('itdo-erp/itdo-erp-infrastructure', STAGING_SHA),
    );
    expect(commitUrl(PRODUCTION_SHA, { app: 'backend', stage: 'production' })).toBe(
      web('itdo-erp/itdo-erp-charts', PRODUCTION_SHA),
    );
    expect(commitUrl(PRODUCTION_SHA, { app: 'frontend', stage: 'production' })).toBe(
      web('itdo-erp/itdo-erp-production', PRODUCTION_SHA),
    );
    expect(commitUrl(PRODUCTION_SHA, { app: 'backend', stage: 'canary' })).toBeUndefined();
    expect(commitUrl(PRODUCTION_SHA, { app: 'worker', stage: 'production' })).toBeUndefined();
  });

  it('links each stage line of the thread and each reply into its own repository', () => {
    expect(release().app).toBe('backend');
    const committed = (stage: string, commit: string) =>
      notification('committed', { stage, detail: { commit, status: 'committed', previousTag: 'v1.4.1' } });
    const healthy = notification('healthy', {
      stage: 'production',
      detail: {
        status: 'healthy',
        message: 'Synced and Healthy',
        revision: PRODUCTION_SHA,
        syncStatus: 'Synced',
        healthStatus: 'Healthy',
        checkedAt: '2026-11-26T14:05:00Z',
        attempt: 2,
      },
    });
    const state = [
      notification('started'),
      committed('staging', STAGING_SHA),
      committed('production', PRODUCTION_SHA),
    ].reduce(
      (current, event) => applyNotification(current, event, stageOrder, at),
      newThreadState(notification('started').execution, release(), at),
    );

    const parent = JSON.stringify(releaseParentMessage(state, stageOrder, commitUrl).blocks);
    expect(parent).toContain(web('itdo-erp/itdo-erp-infrastructure', STAGING_SHA));
    expect(parent).toContain(web('itdo-erp/itdo-erp-charts', PRODUCTION_SHA));
    expect(parent).not.toContain(web('itdo-erp/itdo-erp-infrastructure', PRODUCTION_SHA));

    expect(eventReply(state, committed('production', PRODUCTION_SHA), stageOrder, commitUrl)).toContain(
      `<${web('itdo-erp/itdo-erp-charts', PRODUCTION_SHA)}|\`4d5e6f7\`>`,
    );
    expect(eventReply(state, committed('staging', STAGING_SHA), stageOrder, commitUrl)).toContain(
      `<${web('itdo-erp/itdo-erp-infrastructure', STAGING_SHA)}|\`9b1c2d3\`>`,
    );
    expect(eventReply(state, healthy, stageOrder, commitUrl)).toContain(
      `<${web('itdo-erp/itdo-erp-charts', PRODUCTION_SHA)}|\`4d5e6f7\`>`,
    );
  });

  it("hands the approval's stage history the stage of each commit", () => {
    const asked: string[] = [];
    const history = stageHistory(
      { staging: { commit: { commit: STAGING_SHA, status: 'committed', previousTag: 'v1.4.1' } } },
      stageOrder,
      'production',
      (sha, stage) => {
        asked.push(`${sha.slice(0, 7)}@${stage}`);
        return commitUrl(sha, { app: 'backend', stage });
      },
    );
    expect(asked).toEqual(['9b1c2d3@staging']);
    expect(history[0]?.commitUrl).toBe(web('itdo-erp/itdo-erp-infrastructure', STAGING_SHA));
  });
});
