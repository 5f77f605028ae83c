/**
 * Whether an Argo CD Application is really deployed at our commit. Argo CD computes sync status and
 * health in separate loops, so `Synced` + `Healthy` alone may describe the previous release: the
 * verdict is `healthy` only when the compared revision contains our commit, the last sync operation
 * (if any) succeeded at a revision that contains it, and the app was reconciled after that operation
 * finished. A `Degraded` app counts against us only under the same conditions — an app still
 * Degraded from the release before ours is waiting for our fix, not failed by it. An app with an error
 * condition (ComparisonError…) is never healthy: its sync and health may be stale. Multi-source apps
 * are judged on the source in the GitOps repository.
 */

import type { HealthVerdict } from '../contracts/tasks.js';
import { TerminalError } from '../errors.js';
import type { Application, ApplicationResourceStatus } from './argocd-application.js';
import { isRepositoryUrl } from './repo-url.js';

/** No source of a multi-source app is the GitOps repository: none of its revisions can be our commit. */
export class GitOpsSourceNotFoundError extends TerminalError {
  override name = 'GitOpsSourceNotFoundError';
}

export interface VerdictInput {
  readonly app: Application;
  /** Our commit in the GitOps repository (40 hex). */
  readonly commit: string;
  /**
   * Revisions Argo CD reports that are known (through Git ancestry) to contain our commit. Our commit
   * itself always counts; any other revision not listed is treated as not containing it.
   */
  readonly containing: ReadonlySet<string>;
  /**
   * The GitOps repository, `owner/name` (config `gitops.repository`): the source of a multi-source
   * app whose `repoURL` names it is ours. Without it a multi-source app cannot be judged.
   */
  readonly repository?: string | undefined;
}

export interface ArgoCdVerdict {
  readonly status: HealthVerdict;
  /** One line a person can act on. */
  readonly message: string;
  /**
   * The revision our source was compared at (`status.sync.revision`, or our source's entry of
   * `status.sync.revisions`), or null when Argo CD has not compared the app yet.
   */
  readonly revision: string | null;
  readonly syncStatus: string;
  readonly healthStatus: string;
  /**
   * Set when the app waits for a sync nobody else will start: OutOfSync at a revision containing our
   * commit, no automated sync policy, no operation running, and none has run for our commit yet.
   * A stage with `sync: true` requests a sync to this revision (Argo CD ignores `revision` for apps
   * with `spec.sources` and syncs each source at its targetRevision, whose head contains ours).
   */
  readonly syncTo?: string;
}

const MAX_MESSAGE = 300;
/** Room kept for an error condition in a progressing message, so a long resource message cannot hide it. */
const MAX_CONDITION = 160;
const FAILED_PHASES = new Set(['Failed', 'Error']);
const RUNNING_PHASES = new Set(['Running', 'Terminating']);
/** Which unhealthy resource explains the app best: the worst first. */
const HEALTH_RANK: Record<string, number> = {
  Degraded: 0,
  Missing: 1,
  Progressing: 2,
  Suspended: 3,
  Unknown: 4,
};

/** The revisions Argo CD reports for our source: compared (sync status) and of the last operation. */
interface OurRevisions {
  readonly compared: string | undefined;
  readonly operation: string | undefined;
  /** What a requested operation (`operation`, not started yet or running) asks for. */
  readonly requested: string | undefined;
}

/**
 * Which entry of `spec.sources` is ours: undefined for a single `spec.source` app (Argo CD then
 * reports `revision`, not `revisions`), 0 for a one-entry `sources`, else the first entry whose
 * `repoURL` is the GitOps repository. Throws GitOpsSourceNotFoundError when none is.
 */
export function ourSourceIndex(app: Application, repository?: string): number | undefined {
  const sources = app.spec?.sources ?? [];
  if (sources.length === 0) return undefined;
  if (sources.length === 1) return 0;
  const name = app.metadata.name;
  const found = sources.map((source) => source.repoURL ?? source.chart ?? '(no repoURL)');
  if (!repository) {
    throw new GitOpsSourceNotFoundError(
      `Argo CD application ${name} has ${sources.length} sources (${found.join(', ')}) and no GitOps repository was given to tell which is ours`,
    );
  }
  const index = sources.findIndex((source) => source.repoURL && isRepositoryUrl(source.repoURL, repository));
  if (index < 0) {
    throw new GitOpsSourceNotFoundError(
      `Argo CD application ${name} has no source in the GitOps repository ${repository} (its sources: ${found.join(', ')}); point the stage's argocdApp at an Application that deploys from ${repository}`,
    );
  }
  return index;
}

function ourRevisions(app: Application, repository: string | undefined): OurRevisions {
  const index = ourSourceIndex(app, repository);
  const sync = app.status?.sync;
  const state = app.status?.operationState;
  if (index === undefined) {
    return {
      compared: sync?.revision || undefined,
      operation:
        state?.syncResult?.revision ||
        state?.operation?.sync?.revision ||
        app.operation?.sync?.revision ||
        undefined,
      requested: app.operation?.sync?.revision || undefined,
    };
  }
  // Multi-source fields hold one revision per source, in `spec.sources` order; a one-entry app may
  // still fill the single-source field, which then is our source's.
  const at = (revisions: readonly string[] | undefined, single: string | undefined) =>
    revisions?.[index] || (index === 0 ? single : undefined) || undefined;
  return {
    compared: at(sync?.revisions, sync?.revision),
    operation:
      at(state?.syncResult?.revisions, state?.syncResult?.revision) ??
      at(state?.operation?.sync?.revisions, state?.operation?.sync?.revision) ??
      at(app.operation?.sync?.revisions, app.operation?.sync?.revision),
    requested: at(app.operation?.sync?.revisions, app.operation?.sync?.revision),
  };
}

/**
 * The revisions whose ancestry must be known before judging: the compared revision and the last
 * operation's revision of our source, when they are commit SHAs other than ours. Throws
 * GitOpsSourceNotFoundError like judgeApplication.
 */
export function revisionsToCheck(app: Application, commit: string, repository?: string): string[] {
  const { compared, operation } = ourRevisions(app, repository);
  const wanted = new Set<string>();
  for (const revision of [compared, operation]) {
    if (revision && revision !== commit && /^[0-9a-f]{40}$/.test(revision)) wanted.add(revision);
  }
  return [...wanted];
}

/** Judges one poll. Throws GitOpsSourceNotFoundError for a multi-source app with no source of ours. */
export function judgeApplication({ app, commit, containing, repository }: VerdictInput): ArgoCdVerdict {
  const ours = ourRevisions(app, repository);
  const name = app.metadata.name;
  const status = app.status ?? {};
  const revision = ours.compared ?? null;
  const syncStatus = status.sync?.status || 'Unknown';
  const healthStatus = status.health?.status || 'Unknown';
  const containsOurs = (candidate: string | undefined): candidate is string =>
    candidate !== undefined && (candidate === commit || containing.has(candidate));
  const conditions = errorConditions(app);
  const verdict = (verdictStatus: HealthVerdict, message: string, syncTo?: string): ArgoCdVerdict => ({
    status: verdictStatus,
    // A progressing app with an error condition may never get further: say which, and keep it visible.
    message: verdictStatus === 'progressing' ? withConditions(message, conditions) : oneLine(message),
    revision,
    syncStatus,
    healthStatus,
    ...(syncTo ? { syncTo } : {}),
  });

  if (revision === null) {
    return verdict('progressing', `${name} has not been compared to a Git revision yet`);
  }
  if (!containsOurs(revision)) {
    return verdict(
      'progressing',
      `${name} is at ${short(revision)} (${syncStatus}, ${healthStatus}), waiting for Argo CD to pick up ${short(commit)}`,
    );
  }

  const operationState = status.operationState;
  const phase = operationState?.phase;
  const opRevision = ours.operation;
  const running = phase !== undefined && RUNNING_PHASES.has(phase);
  if (app.operation !== undefined && !running) {
    // operationState still describes the last finished operation, not the requested one.
    const target = ours.requested ? ` to ${short(ours.requested)}` : '';
    return verdict('progressing', `sync${target} requested, waiting for Argo CD to start it`);
  }
  if (running) {
    const target = opRevision ? ` to ${short(opRevision)}` : '';
    return verdict(
      'progressing',
      `sync${target} ${phase ?? 'Running'}${operationState?.message ? `: ${operationState.message}` : ''}`,
    );
  }

  const operationForUs = operationState !== undefined && containsOurs(opRevision);
  if (operationForUs && phase !== undefined && FAILED_PHASES.has(phase)) {
    return verdict(
      'degraded',
      `sync to ${short(opRevision ?? commit)} ${phase}: ${operationState.message ?? 'no message'}${failedResourceSuffix(app)}`,
    );
  }
  const succeededForUs = operationForUs && phase === 'Succeeded';
  const manualSync = app.spec?.syncPolicy?.automated == null;

  if (operationState !== undefined && !succeededForUs) {
    // The last operation is about an older revision (or ended oddly): our change is not applied yet.
    const last = opRevision ? ` (last sync ${phase ?? 'Unknown'} at ${short(opRevision)})` : '';
    if (syncStatus === 'OutOfSync') {
      return verdict(
        'progressing',
        `${syncStatus} at ${short(revision)}, waiting for a sync${last}`,
        manualSync ? revision : undefined,
      );
    }
    return verdict(
      'progressing',
      `${syncStatus} at ${short(revision)} but no sync has run for ${short(commit)} yet${last}`,
    );
  }

  if (succeededForUs) {
    const finishedAt = parseTime(operationState.finishedAt);
    const reconciledAt = parseTime(status.reconciledAt);
    if (finishedAt === undefined || reconciledAt === undefined || reconciledAt <= finishedAt) {
      return verdict(
        'progressing',
        `sync to ${short(opRevision ?? revision)} finished${operationState.finishedAt ? ` at ${operationState.finishedAt}` : ''}; waiting for Argo CD to reconcile after it`,
      );
    }
  }

  // Fresh: the compared revision is ours and, if an operation ran, it applied ours and was reconciled.
  const live = syncStatus === 'Synced' || succeededForUs;
  if (healthStatus === 'Degraded' && live) {
    return verdict('degraded', healthMessage(app, healthStatus));
  }
  if (syncStatus !== 'Synced') {
    const resources = status.resources ?? [];
    const worst = worstResource(resources);
    const detail = worst ? describeResource(worst) : firstOutOfSync(resources);
    return verdict(
      'progressing',
      `${syncStatus} at ${short(revision)}${succeededForUs ? '' : ', waiting for a sync'}${detail ? `: ${detail}` : ''}`,
      !succeededForUs && manualSync && syncStatus === 'OutOfSync' ? revision : undefined,
    );
  }
  if (healthStatus === 'Healthy') {
    // Argo CD says Synced and Healthy, but an error condition means it could not compare or sync
    // properly: what it reports may not be the state at our revision (Kargo treats these as unhealthy).
    if (conditions.length > 0) {
      return verdict('progressing', `Synced and Healthy at ${short(revision)} with an error condition`);
    }
    return verdict('healthy', `Synced and Healthy at ${short(revision)}`);
  }
  return verdict('progressing', healthMessage(app, healthStatus));
}

/** `Deployment backend Progressing: Waiting for rollout to finish: 1 of 3 updated replicas are available...` */
function healthMessage(app: Application, healthStatus: string): string {
  const worst = worstResource(app.status?.resources ?? []);
  if (worst) return describeResource(worst);
  const own = app.status?.health?.message;
  if (own) return `${app.metadata.name} ${healthStatus}: ${own}`;
  return `${app.metadata.name} ${healthStatus}`;
}

function worstResource(
  resources: readonly ApplicationResourceStatus[],
): ApplicationResourceStatus | undefined {
  let worst: ApplicationResourceStatus | undefined;
  let worstRank = Number.POSITIVE_INFINITY;
  for (const resource of resources) {
    if (resource.hook) continue;
    const rank = HEALTH_RANK[resource.health?.status ?? ''];
    if (rank !== undefined && rank < worstRank) {
      worst = resource;
      worstRank = rank;
    }
  }
  return worst;
}

function describeResource(resource: ApplicationResourceStatus): string {
  const what = [resource.kind, resource.name].filter(Boolean).join(' ') || 'a resource';
  const health = resource.health?.status ?? 'Unknown';
  const detail = resource.health?.message;
  if (resource.kind === 'Rollout' && (resource.group ?? 'argoproj.io') === 'argoproj.io') {
    const rollout = describeRollout(what, health, detail);
    if (rollout) return rollout;
  }
  return `${what} ${health}${detail ? `: ${detail}` : ''}`;
}

/**
 * Argo Rollouts, as Argo CD's Rollout health script reports them: a Rollout waiting at a pause step is
 * `Suspended` with the pause reason (`CanaryPauseStep`; `Rollout is paused` before Rollouts v1.0);
 * an aborted one is `Degraded` with `RolloutAborted: Rollout aborted update to revision …`.
 */
function describeRollout(what: string, health: string, detail: string | undefined): string | undefined {
  if (health === 'Suspended') {
    const kind = detail && /bluegreen/i.test(detail) ? 'blue-green' : 'canary';
    return `${kind} paused: ${what} (${detail ?? 'paused'}), waiting for it to resume`;
  }
  if (health === 'Degraded' && detail && /abort/i.test(detail)) {
    return `canary aborted: ${what} (${detail})`;
  }
  return undefined;
}

function firstOutOfSync(resources: readonly ApplicationResourceStatus[]): string | undefined {
  const resource = resources.find((r) => !r.hook && r.status === 'OutOfSync');
  if (!resource) return undefined;
  return `${[resource.kind, resource.name].filter(Boolean).join(' ')} OutOfSync`;
}

function failedResourceSuffix(app: Application): string {
  const failed = app.status?.operationState?.syncResult?.resources?.find(
    (r) => r.status === 'SyncFailed' || r.hookPhase === 'Failed' || r.hookPhase === 'Error',
  );
  if (!failed) return '';
  const what = [failed.kind, failed.name].filter(Boolean).join(' ');
  return ` (${what}${failed.message ? `: ${failed.message}` : ''})`;
}

/**
 * Argo CD's error conditions: a type ending in `Error` (its own `IsError` rule) — ComparisonError,
 * InvalidSpecError, SyncError, DeletionError, UnknownError. `*Warning` conditions (SharedResource,
 * OrphanedResource…) do not block a release.
 */
function errorConditions(app: Application): { type: string; message: string }[] {
  return (app.status?.conditions ?? []).flatMap((c) =>
    c.type?.endsWith('Error') ? [{ type: c.type, message: c.message || 'no message' }] : [],
  );
}

/** `message (ComparisonError: …; also SyncError)`, the condition kept whole up to MAX_CONDITION. */
function withConditions(message: string, conditions: readonly { type: string; message: string }[]): string {
  const [first, ...others] = conditions;
  if (!first) return oneLine(message);
  const also = others.length > 0 ? `; also ${[...new Set(others.map((c) => c.type))].join(', ')}` : '';
  const suffix = ` (${oneLine(`${first.type}: ${first.message}`, MAX_CONDITION)}${also})`;
  return `${oneLine(message, MAX_MESSAGE - suffix.length)}${suffix}`;
}

function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

function short(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}

function oneLine(text: string, max = MAX_MESSAGE): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
