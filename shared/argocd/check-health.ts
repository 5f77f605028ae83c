/**
 * One poll of the Argo CD wait: read the app with a refresh, learn which reported revisions contain
 * our commit, judge, and — for stages that sync themselves — request the sync once. Transient trouble
 * (Argo CD or GitHub unreachable) is reported as `progressing` with a message saying so, so the wait
 * loop keeps polling until its timeout; terminal trouble (bad token, missing app, multi-source app
 * with no source in the GitOps repository) is thrown and ends the run.
 */

import type { ArgoCdClient } from '../adapters/argocd/client.js';
import { ArgoCdOperationInProgressError, ArgoCdUnreachableError } from '../adapters/argocd/errors.js';
import { type Ancestry, AncestryUnavailableError } from '../adapters/github/ancestry.js';
import type { HealthCheckInput, HealthCheckResult } from '../contracts/tasks.js';
import { type ArgoCdVerdict, judgeApplication, revisionsToCheck } from '../domain/argocd-verdict.js';

export interface ArgoCdHealthDeps {
  readonly argocd: ArgoCdClient;
  readonly ancestry: Ancestry;
  /**
   * The GitOps repository, `owner/name` (config `gitops.repository`): which source of a multi-source
   * app is ours. Without it a multi-source app fails the run.
   */
  readonly repository?: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** Runs one health check for a stage and returns what the state machine's Choice reads. */
export async function checkArgoCdHealth(
  input: HealthCheckInput,
  deps: ArgoCdHealthDeps,
): Promise<HealthCheckResult> {
  const now = deps.now ?? (() => new Date());
  const locator = {
    ...(input.argocdProject ? { project: input.argocdProject } : {}),
    ...(input.appNamespace ? { appNamespace: input.appNamespace } : {}),
  };
  const result = (verdict: Omit<ArgoCdVerdict, 'syncTo'>): HealthCheckResult => ({
    status: verdict.status,
    message: verdict.message,
    revision: verdict.revision,
    syncStatus: verdict.syncStatus,
    healthStatus: verdict.healthStatus,
    checkedAt: now().toISOString(),
    attempt: input.attempt,
  });
  const unknown = (message: string) =>
    result({
      status: 'progressing',
      message,
      revision: null,
      syncStatus: 'Unknown',
      healthStatus: 'Unknown',
    });

  let app: Awaited<ReturnType<ArgoCdClient['getApplication']>>;
  try {
    app = await deps.argocd.getApplication(input.argocdApp, { refresh: 'normal', ...locator });
  } catch (error) {
    if (error instanceof ArgoCdUnreachableError) return unknown(error.message);
    throw error;
  }

  const containing = new Set<string>();
  for (const revision of revisionsToCheck(app, input.commit, deps.repository)) {
    try {
      if (await deps.ancestry.contains(revision, input.commit)) containing.add(revision);
    } catch (error) {
      if (!(error instanceof AncestryUnavailableError)) throw error;
      const seen = app.status?.sync;
      return result({
        status: 'progressing',
        message: `${error.message}; will ask again`,
        revision: seen?.revision || null,
        syncStatus: seen?.status || 'Unknown',
        healthStatus: app.status?.health?.status || 'Unknown',
      });
    }
  }

  const verdict = judgeApplication({ app, commit: input.commit, containing, repository: deps.repository });
  if (!input.sync || !verdict.syncTo) return result(verdict);

  try {
    await deps.argocd.syncApplication(input.argocdApp, { revision: verdict.syncTo, ...locator });
  } catch (error) {
    if (error instanceof ArgoCdOperationInProgressError) {
      return result({
        ...verdict,
        message: `${verdict.message}; another operation is running, waiting for it`,
      });
    }
    if (error instanceof ArgoCdUnreachableError) {
      return result({
        ...verdict,
        message: `${verdict.message}; sync request failed, will retry: ${error.message}`,
      });
    }
    throw error;
  }
  return result({
    ...verdict,
    message: `${verdict.message}; sync to ${verdict.syncTo.slice(0, 7)} requested`,
  });
}
