/**
 * The Argo CD stand-in's application controller: for each app, what Git says (the compared revision
 * and tag), what runs (the live revision and tag), the sync operation in its own loop, and the
 * rollout's health — advanced one step per API read, so tests are deterministic. See server.ts for
 * the behaviour this reproduces and why.
 */
import { randomUUID } from 'node:crypto';

export interface StandInApp {
  readonly name: string;
  /** @default 'default' */
  readonly project?: string;
  /** Namespace the Application lives in. @default 'argocd' */
  readonly namespace?: string;
  /** Directory of the GitOps repository the app renders, e.g. `environments/staging`. */
  readonly path: string;
  /** @default 'https://github.com/example/gitops.git' */
  readonly repoURL?: string;
  /** The branch it follows. @default 'main' */
  readonly targetRevision?: string;
  /** Namespace its resources are deployed to. @default the app name */
  readonly destinationNamespace?: string;
  /** Automated sync policy: Argo CD syncs by itself when the app goes OutOfSync. */
  readonly automated: boolean;
  /** Name of the Deployment and Service it manages. @default 'backend' */
  readonly workload?: string;
  /** Image repository shown in `status.summary.images`. @default the workload name */
  readonly image?: string;
  /** @default 3 */
  readonly replicas?: number;
}

/** An Application condition as Argo CD reports it, e.g. `{ type: 'SyncError', message: … }`. */
export interface StandInCondition {
  readonly type: string;
  readonly message: string;
}

export interface ControllerOptions {
  readonly apps: readonly StandInApp[];
  /** The GitOps branch head (the GitHub stand-in provides it). */
  resolveHead(app: StandInApp): Promise<string>;
  /** The image tag the app deploys at a revision, or undefined when unknown. */
  readTag(revision: string, app: StandInApp): Promise<string | undefined>;
  /** Tags that roll out Degraded. @default /-bad$/ */
  readonly degradedTags?: RegExp;
  /** Controller steps a sync operation stays Running. @default 2 */
  readonly syncTicks?: number;
  /** Controller steps health stays Progressing after a sync. @default 2 */
  readonly rolloutTicks?: number;
  /** Seconds between reconciliations that re-read Git without a refresh. @default 180 */
  readonly reconciliationSeconds?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

type Phase = 'Running' | 'Succeeded' | 'Failed';

export interface Operation {
  readonly revision: string;
  readonly tag: string | undefined;
  readonly initiatedBy: { automated: true } | { username: string };
  readonly prune: boolean;
  readonly startedAt: string;
  phase: Phase;
  message: string;
  finishedAt?: string;
  ticksLeft: number;
  /** Started during this controller step: it first advances on the next one. */
  justStarted: boolean;
}

export interface AppState {
  readonly config: Required<Omit<StandInApp, 'image'>> & { image: string };
  readonly uid: string;
  readonly createdAt: string;
  resourceVersion: number;
  /** What Git says (as of the last Git refresh). */
  comparedRevision?: string;
  comparedTag?: string | undefined;
  /** What runs in the cluster. */
  liveRevision?: string;
  liveTag?: string | undefined;
  /** Health progress of the live rollout: steps left before it settles. */
  rolloutLeft: number;
  /** Snapshot of the last reconciliation. */
  syncStatus: 'Synced' | 'OutOfSync' | 'Unknown';
  healthStatus: string;
  healthMessage?: string;
  reconciledAt: string;
  lastGitRefreshMs: number;
  comparisonError?: string;
  /** A condition set through `setCondition`. */
  condition?: StandInCondition;
  /** The cluster changed since the last reconciliation (the controller's watch would notice). */
  dirty: boolean;
  operation?: Operation;
  /** Automated sync does not retry a revision it already tried, like Argo CD. */
  lastAutoSynced?: string;
  history: Array<{
    revision: string;
    deployedAt: string;
    deployStartedAt: string;
    id: number;
    initiatedBy: Operation['initiatedBy'];
  }>;
}

export const DEFAULT_NAMESPACE = 'argocd';
const SYNCED = 'successfully synced (all tasks run)';

export class ArgoCdController {
  private readonly now: () => Date;
  private readonly degradedTags: RegExp;
  private readonly syncTicks: number;
  private readonly rolloutTicks: number;
  private readonly reconciliationMs: number;
  private readonly apps = new Map<string, AppState>();
  private lastStamp = 0;

  private constructor(private readonly options: ControllerOptions) {
    this.now = options.now ?? (() => new Date());
    this.degradedTags = options.degradedTags ?? /-bad$/;
    this.syncTicks = Math.max(1, options.syncTicks ?? 2);
    this.rolloutTicks = Math.max(0, options.rolloutTicks ?? 2);
    this.reconciliationMs = (options.reconciliationSeconds ?? 180) * 1000;
  }

  /** A controller whose apps start as a long-running Argo CD's would: synced and settled at the head. */
  static async start(options: ControllerOptions): Promise<ArgoCdController> {
    const controller = new ArgoCdController(options);
    for (const app of options.apps) await controller.addSettledApp(app);
    return controller;
  }

  /** The app `name` in `namespace`, or undefined. */
  find(namespace: string, name: string): AppState | undefined {
    return this.apps.get(key(namespace, name));
  }

  /** The app called `name` in any namespace; throws when there is none (a test's mistake). */
  byName(name: string): AppState {
    const state = [...this.apps.values()].find((s) => s.config.name === name);
    if (!state) throw new Error(`the Argo CD stand-in has no app ${name}`);
    return state;
  }

  /**
   * Argo CD timestamps have second precision; each event gets its own, strictly later second so that
   * "reconciled after the operation finished" is decidable even when a test runs within one second.
   */
  private stamp(): string {
    this.lastStamp = Math.max(Math.floor(this.now().getTime() / 1000), this.lastStamp + 1);
    return new Date(this.lastStamp * 1000).toISOString().replace('.000Z', 'Z');
  }

  private async addSettledApp(app: StandInApp): Promise<void> {
    const config = {
      project: 'default',
      namespace: DEFAULT_NAMESPACE,
      repoURL: 'https://github.com/example/gitops.git',
      targetRevision: 'main',
      destinationNamespace: app.name,
      workload: 'backend',
      replicas: 3,
      ...app,
      image: app.image ?? app.workload ?? 'backend',
    };
    const state: AppState = {
      config,
      uid: randomUUID(),
      createdAt: this.stamp(),
      resourceVersion: 1,
      rolloutLeft: 0,
      syncStatus: 'Unknown',
      healthStatus: 'Unknown',
      reconciledAt: '',
      lastGitRefreshMs: 0,
      dirty: false,
      history: [],
    };
    await this.refreshGit(state);
    if (state.comparedRevision) {
      const startedAt = this.stamp();
      state.liveRevision = state.comparedRevision;
      state.liveTag = state.comparedTag;
      state.operation = {
        revision: state.comparedRevision,
        tag: state.comparedTag,
        initiatedBy: config.automated ? { automated: true } : { username: 'admin' },
        prune: true,
        startedAt,
        phase: 'Succeeded',
        message: SYNCED,
        finishedAt: this.stamp(),
        ticksLeft: 0,
        justStarted: false,
      };
      state.history.push({
        revision: state.comparedRevision,
        deployStartedAt: startedAt,
        deployedAt: state.operation.finishedAt!,
        id: 0,
        initiatedBy: state.operation.initiatedBy,
      });
      state.lastAutoSynced = state.comparedRevision;
    }
    this.reconcileLive(state);
    this.apps.set(key(config.namespace, config.name), state);
  }

  /** Re-reads Git: the branch head and the tag it deploys; a failure becomes a ComparisonError. */
  async refreshGit(state: AppState): Promise<void> {
    state.lastGitRefreshMs = this.now().getTime();
    try {
      const head = await this.options.resolveHead(state.config);
      if (head !== state.comparedRevision) {
        state.comparedRevision = head;
        state.comparedTag = await this.options.readTag(head, state.config);
      }
      delete state.comparisonError;
    } catch (error) {
      state.comparisonError = `Failed to load target state: failed to get git client for repo ${state.config.repoURL}: ${(error as Error).message}`;
    }
  }

  /** The reconciliation loop: compare desired and live, assess health, maybe start an automated sync. */
  reconcileLive(state: AppState): void {
    if (state.comparedRevision === undefined) {
      state.syncStatus = 'Unknown';
    } else {
      state.syncStatus =
        state.liveRevision !== undefined && state.liveTag === state.comparedTag ? 'Synced' : 'OutOfSync';
    }
    this.assessHealth(state);
    state.reconciledAt = this.stamp();
    state.dirty = false;
    state.resourceVersion++;
    const running = state.operation?.phase === 'Running';
    if (
      state.config.automated &&
      state.syncStatus === 'OutOfSync' &&
      !running &&
      state.comparedRevision !== undefined &&
      state.lastAutoSynced !== state.comparedRevision
    ) {
      state.lastAutoSynced = state.comparedRevision;
      this.startOperation(state, state.comparedRevision, state.comparedTag, { automated: true }, true);
    }
  }

  /** Missing before anything ran, Progressing during a rollout, then Degraded for a bad tag, else Healthy. */
  private assessHealth(state: AppState): void {
    const replicas = state.config.replicas;
    if (state.liveRevision === undefined) {
      state.healthStatus = 'Missing';
      delete state.healthMessage;
    } else if (state.rolloutLeft > 0) {
      const available = Math.min(replicas - 1, Math.max(0, this.rolloutTicks - state.rolloutLeft) + 1);
      state.healthStatus = 'Progressing';
      state.healthMessage = `Waiting for rollout to finish: ${available} of ${replicas} updated replicas are available...`;
    } else if (state.liveTag !== undefined && this.degradedTags.test(state.liveTag)) {
      state.healthStatus = 'Degraded';
      state.healthMessage = `Deployment "${state.config.workload}" exceeded its progress deadline`;
    } else {
      state.healthStatus = 'Healthy';
      delete state.healthMessage;
    }
  }

  startOperation(
    state: AppState,
    revision: string,
    tag: string | undefined,
    initiatedBy: Operation['initiatedBy'],
    prune: boolean,
  ): void {
    state.operation = {
      revision,
      tag,
      initiatedBy,
      prune,
      startedAt: this.stamp(),
      phase: 'Running',
      message: `waiting for healthy state of apps/Deployment/${state.config.workload}`,
      ticksLeft: this.syncTicks,
      justStarted: true,
    };
    state.resourceVersion++;
  }

  /** One step of the cluster and the operation loop. */
  step(state: AppState): void {
    if (state.dirty) this.reconcileLive(state);
    const operation = state.operation;
    if (operation?.phase === 'Running' && operation.justStarted) {
      operation.justStarted = false;
    } else if (operation?.phase === 'Running') {
      operation.ticksLeft--;
      if (operation.ticksLeft <= 0) this.finishOperation(state, operation);
    } else if (state.rolloutLeft > 0) {
      state.rolloutLeft--;
      state.dirty = true;
    }
    state.resourceVersion++;
  }

  /** The sync succeeded: the revision is live and its rollout starts. */
  private finishOperation(state: AppState, operation: Operation): void {
    operation.phase = 'Succeeded';
    operation.message = SYNCED;
    operation.finishedAt = this.stamp();
    state.liveRevision = operation.revision;
    state.liveTag = operation.tag;
    state.rolloutLeft = this.rolloutTicks;
    state.history.push({
      revision: operation.revision,
      deployStartedAt: operation.startedAt,
      deployedAt: operation.finishedAt,
      id: state.history.length,
      initiatedBy: operation.initiatedBy,
    });
    state.dirty = true;
  }

  /** An API read: re-read Git when asked to refresh (or the interval has passed), then one step. */
  async readApp(state: AppState, refresh: string | undefined): Promise<void> {
    if (
      refresh === 'normal' ||
      refresh === 'hard' ||
      this.now().getTime() - state.lastGitRefreshMs >= this.reconciliationMs
    ) {
      await this.refreshGit(state);
      this.reconcileLive(state);
    }
    this.step(state);
  }

  /** The tag at `revision`: the compared one when it is the compared revision, else read from Git. */
  async tagAt(state: AppState, revision: string): Promise<string | undefined> {
    return revision === state.comparedRevision
      ? state.comparedTag
      : this.options.readTag(revision, state.config);
  }

  setCondition(name: string, condition: StandInCondition | undefined): void {
    const state = this.byName(name);
    if (condition) state.condition = { type: condition.type, message: condition.message };
    else delete state.condition;
    state.resourceVersion++;
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
