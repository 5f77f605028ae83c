/** A release thread moved by notifications, for the domain and Slack rendering tests. */
import type { Notification } from '../../../shared/contracts/tasks.js';
import {
  applyNotification,
  newThreadState,
  type ThreadState,
} from '../../../shared/domain/release-thread.js';
import { gitopsCommitUrl } from '../../../shared/domain/repo-url.js';
import { approvalRequest, notification, release } from '../../fixtures/slack/context.js';

export const order = ['staging', 'production'];
export const RUN = notification('started').execution;
export const commitUrl = (sha: string) =>
  gitopsCommitUrl('https://api.github.com', 'itdo-erp/itdo-erp-infrastructure', sha);
export const at = new Date('2026-11-26T14:00:00Z');
export const SHA = '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
export const stagingCommit = { commit: SHA, status: 'committed', previousTag: 'v1.4.1' };
export const SUPERSEDED = {
  Error: 'Shiplane.Superseded',
  Cause:
    'itdo-erp/backend v1.4.2 was not deployed to production: v1.4.3 is already there. environments/production/kustomization.yaml already pins itdo-erp/backend v1.4.3, newer than v1.4.2',
};
export const stagingHealth = approvalRequest().stages.staging as { health: unknown };

export function run(events: Notification[]): ThreadState {
  return events.reduce(
    (state, event) => applyNotification(state, event, order, at),
    newThreadState(notification('started').execution, release(), at),
  );
}
