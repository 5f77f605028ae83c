/**
 * Keeps each stage's record of tags (`deployed#<app>#<stage>`, see shared/domain/stage-tags.ts) in
 * step with the run's events: a commit says what the stage pins now, a healthy verdict adds the tag
 * to the stage's healthy history, and an automatic rollback that got healthy puts its entry back on
 * top. `shiplane rollback` chooses "the previous healthy tag" from this record.
 */

import {
  commitResultSchema,
  healthCheckResultSchema,
  type Notification,
  rollbackProgressSchema,
} from '../../contracts/tasks.js';
import type { ApprovalsStore } from '../../ports/approvals-store.js';

export async function recordStageTags(
  notification: Notification,
  store: ApprovalsStore,
  now: Date,
): Promise<void> {
  const { event, execution, release, stage, detail } = notification;
  if (!stage) return;
  const at = now.toISOString();
  if (event === 'committed') {
    const commit = commitResultSchema.safeParse(detail).data;
    await store.recordPinnedTag(release.app, stage, {
      tag: release.tag,
      digest: release.digest,
      execution,
      at,
      ...(commit ? { commit: commit.commit } : {}),
    });
    return;
  }
  if (event === 'healthy') {
    const revision = healthCheckResultSchema.safeParse(detail).data?.revision;
    await store.recordDeployedTag(release.app, stage, {
      tag: release.tag,
      digest: release.digest,
      execution,
      at,
      ...(revision ? { commit: revision } : {}),
      release,
    });
    return;
  }
  if (event === 'rolled-back') {
    const rollback = rollbackProgressSchema.safeParse(detail).data;
    if (!rollback) return;
    const commit = rollback.health?.revision ?? rollback.commit?.commit;
    const { tag, digest } = rollback.target;
    if (digest) {
      // The entry put back is healthy again: the newest of the stage's healthy tags.
      await store.recordDeployedTag(release.app, stage, {
        tag,
        digest,
        execution,
        at,
        ...(commit ? { commit } : {}),
        release: { ...release, tag, digest },
      });
    } else {
      // An entry restored by tag alone: the stage pins it, but its digest is not known here.
      await store.recordPinnedTag(release.app, stage, {
        tag,
        execution,
        at,
        ...(commit ? { commit } : {}),
      });
    }
  }
}
