/**
 * Whether an Argo CD Application is really deployed at our commit. Argo CD computes sync status and
 * health in separate loops, so `Synced` + `Healthy` alone may describe the previous release: the
 * verdict is `healthy` only when the compared revision contains our commit, the last sync operation
 * (if any) succeeded at a revision that contains it, and the app was reconciled after that operation
 * finished. A `Degraded` app counts against us only under the same conditions — an app still
 * Degraded from the release before ours is waiting for our fix, not failed by it.
 */
import type { Application, ApplicationResourceStatus } from '../argocd/application.js';
import type { HealthVerdict } from '../contracts/tasks.js';
import { TerminalError } from '../errors.js';

/** The app uses `spec.sources` / `status.sync.revisions`: which revision is ours cannot be told apart. */
export class MultiSourceApplicationError extends TerminalError {
  override name = 'MultiSourceApplicationError';
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
}

export interface ArgoCdVerdict {
  readonly status: HealthVerdict;
  /** One line a person can act on. */
  readonly message: string;
  /** `status.sync.revision`, or null when Argo CD has not compared the app yet. */
  readonly revision: string | null;
  readonly syncStatus: string;
  readonly healthStatus: string;
  /**
   * Set when the app waits for a sync nobody else will start: OutOfSync at a revision containing our
   * commit, no automated sync policy, no operation running, and none has run for our commit yet.
   * A stage with `sync: true` requests a sync to this revision.
   */
  readonly syncTo?: string;
}

const MAX_MESSAGE = 300;
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

/** Refuses multi-source applications with a message that says what to do. */
export function assertSingleSource(app: Application): void {
  const revisions = app.status?.sync?.revisions ?? [];
  const sources = app.spec?.sources ?? [];
  if (revisions.length === 0 && (sources.length === 0 || app.spec?.sourceHydrator !== undefined)) return;
  const count = Math.max(revisions.length, sources.length);
  throw new MultiSourceApplicationError(
    `Argo CD application ${app.metadata.name} has ${count} sources (spec.sources); Shiplane can only tell which revision is its commit for single-source applications — point the stage's argocdApp at an Application with one spec.source in the GitOps repository`,
  );
}

/**
 * The revisions whose ancestry must be known before judging: the compared revision and the last
 * operation's revision, when they are commit SHAs other than ours.
 */
export function revisionsToCheck(app: Application, commit: string): string[] {
  const candidates = [app.status?.sync?.revision, operationRevision(app)];
  const wanted = new Set<string>();
  for (const revision of candidates) {
    if (revision && revision !== commit && /^[0-9a-f]{40}$/.test(revision)) wanted.add(revision);
  }
  return [...wanted];
}

/** Judges one poll. Throws MultiSourceApplicationError for multi-source apps. */
export function judgeApplication({ app, commit, containing }: VerdictInput): ArgoCdVerdict {
  assertSingleSource(app);
  const name = app.metadata.name;
  const status = app.status ?? {};
  const revision = status.sync?.revision ? status.sync.revision : null;
  const syncStatus = status.sync?.status || 'Unknown';
  const healthStatus = status.health?.status || 'Unknown';
  const containsOurs = (candidate: string | undefined): candidate is string =>
    candidate !== undefined && (candidate === commit || containing.has(candidate));
  const verdict = (verdictStatus: HealthVerdict, message: string, syncTo?: string): ArgoCdVerdict => ({
    status: verdictStatus,
    message: oneLine(message),
    revision,
    syncStatus,
    healthStatus,
    ...(syncTo ? { syncTo } : {}),
  });

  if (revision === null) {
    return verdict(
      'progressing',
      `${name} has not been compared to a Git revision yet${conditionSuffix(app)}`,
    );
  }
  if (!containsOurs(revision)) {
    return verdict(
      'progressing',
      `${name} is at ${short(revision)} (${syncStatus}, ${healthStatus}), waiting for Argo CD to pick up ${short(commit)}${conditionSuffix(app)}`,
    );
  }

  const operationState = status.operationState;
  const phase = operationState?.phase;
  const opRevision = operationRevision(app);
  if (app.operation !== undefined || (phase !== undefined && RUNNING_PHASES.has(phase))) {
    const target = opRevision ? ` to ${short(opRevision)}` : '';
    return verdict(
      'progressing',
      `sync${target} ${phase ?? 'requested'}${operationState?.message ? `: ${operationState.message}` : ''}`,
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
    return verdict('healthy', `Synced and Healthy at ${short(revision)}`);
  }
  return verdict('progressing', healthMessage(app, healthStatus));
}

/** The revision of the last (or running) operation: its result if it has one, else what was asked. */
function operationRevision(app: Application): string | undefined {
  const state = app.status?.operationState;
  return (
    state?.syncResult?.revision ||
    state?.operation?.sync?.revision ||
    app.operation?.sync?.revision ||
    undefined
  );
}

/** `Deployment backend Progressing: Waiting for rollout to finish: 1 of 3 updated replicas are available...` */
function healthMessage(app: Application, healthStatus: string): string {
  const worst = worstResource(app.status?.resources ?? []);
  if (worst) return describeResource(worst);
  const own = app.status?.health?.message;
  if (own) return `${app.metadata.name} ${healthStatus}: ${own}`;
  return `${app.metadata.name} ${healthStatus}${conditionSuffix(app)}`;
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
  return `${what} ${health}${resource.health?.message ? `: ${resource.health.message}` : ''}`;
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

/** Error conditions (ComparisonError, InvalidSpecError…) explain an app that cannot progress. */
function conditionSuffix(app: Application): string {
  const condition = app.status?.conditions?.find((c) => c.type?.endsWith('Error'));
  return condition ? ` (${condition.type}: ${condition.message ?? 'no message'})` : '';
}

function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

function short(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 1)}…` : flat;
}
