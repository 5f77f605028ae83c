/**
 * An Argo CD stand-in: a local HTTP server (127.0.0.1, a free port) that speaks the part of the
 * Argo CD API Shiplane uses — `GET /api/v1/applications/{name}` and `POST …/{name}/sync` — with
 * Application JSON shaped like the real one, so the production client runs unchanged against it.
 *
 * It behaves the way Argo CD does where Shiplane's verdict cares:
 * - it follows the GitOps branch head (`resolveHead`) but notices a new commit only when asked to
 *   refresh (`refresh=normal|hard`) or after its reconciliation interval;
 * - sync status and health are computed when it reconciles, while the sync operation runs in its
 *   own loop (Running for `syncTicks` controller steps, then Succeeded), so an app can be Healthy
 *   with a finished operation it has not reconciled yet — the race the verdict guards against;
 * - after a sync, health is Progressing for `rolloutTicks` steps, then Healthy — or Degraded when the
 *   image tag deployed at that revision (`readTag`) matches `degradedTags` (default `-bad$`);
 * - the API needs `Authorization: Bearer <token>` (401), unknown apps are 404, a project mismatch is
 *   403, and `fail(n)` makes the next n calls answer 503;
 * - `setCondition` makes an app report an application condition (a SyncError, say) until cleared.
 * One controller step runs per API read of an app (or per `step()`), which keeps tests deterministic.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export interface ArgoCdServerOptions {
  /** The API token clients must send as `Authorization: Bearer <token>`. */
  readonly token: string;
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

/** An Application condition as Argo CD reports it, e.g. `{ type: 'SyncError', message: … }`. */
export interface StandInCondition {
  readonly type: string;
  readonly message: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface ArgoCdServer {
  readonly url: string;
  /** Every request received, in order (the body of POSTs included). */
  readonly requests: readonly RecordedRequest[];
  /** The next `count` requests answer `status` (default 503) like an unhealthy Argo CD behind a proxy. */
  fail(count: number, status?: number): void;
  /** Runs controller steps on an app without an API call. */
  step(name: string, count?: number): Promise<void>;
  /** Reconciles an app as the interval would, re-reading Git. */
  reconcile(name: string): Promise<void>;
  /** Reports `condition` in the app's `status.conditions` from now on; undefined clears it. */
  setCondition(name: string, condition: StandInCondition | undefined): void;
  close(): Promise<void>;
}

type Phase = 'Running' | 'Succeeded' | 'Failed';

interface Operation {
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

interface AppState {
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

const DEFAULT_NAMESPACE = 'argocd';

export async function startArgoCdServer(options: ArgoCdServerOptions): Promise<ArgoCdServer> {
  const now = options.now ?? (() => new Date());
  const degradedTags = options.degradedTags ?? /-bad$/;
  const syncTicks = Math.max(1, options.syncTicks ?? 2);
  const rolloutTicks = Math.max(0, options.rolloutTicks ?? 2);
  const reconciliationMs = (options.reconciliationSeconds ?? 180) * 1000;
  const requests: RecordedRequest[] = [];
  let failures = { count: 0, status: 503 };

  // Argo CD timestamps have second precision; each event gets its own, strictly later second so that
  // "reconciled after the operation finished" is decidable even when a test runs within one second.
  let lastStamp = 0;
  const stamp = (): string => {
    lastStamp = Math.max(Math.floor(now().getTime() / 1000), lastStamp + 1);
    return new Date(lastStamp * 1000).toISOString().replace('.000Z', 'Z');
  };

  const apps = new Map<string, AppState>();
  for (const app of options.apps) {
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
      createdAt: stamp(),
      resourceVersion: 1,
      rolloutLeft: 0,
      syncStatus: 'Unknown',
      healthStatus: 'Unknown',
      reconciledAt: '',
      lastGitRefreshMs: 0,
      dirty: false,
      history: [],
    };
    // Start as a long-running Argo CD would be: synced and settled at the current head.
    await refreshGit(state);
    if (state.comparedRevision) {
      const startedAt = stamp();
      state.liveRevision = state.comparedRevision;
      state.liveTag = state.comparedTag;
      state.operation = {
        revision: state.comparedRevision,
        tag: state.comparedTag,
        initiatedBy: config.automated ? { automated: true } : { username: 'admin' },
        prune: true,
        startedAt,
        phase: 'Succeeded',
        message: 'successfully synced (all tasks run)',
        finishedAt: stamp(),
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
    reconcileLive(state);
    apps.set(key(config.namespace, config.name), state);
  }

  async function refreshGit(state: AppState): Promise<void> {
    state.lastGitRefreshMs = now().getTime();
    try {
      const head = await options.resolveHead(state.config);
      if (head !== state.comparedRevision) {
        state.comparedRevision = head;
        state.comparedTag = await options.readTag(head, state.config);
      }
      delete state.comparisonError;
    } catch (error) {
      state.comparisonError = `Failed to load target state: failed to get git client for repo ${state.config.repoURL}: ${(error as Error).message}`;
    }
  }

  /** The reconciliation loop: compare desired and live, assess health, maybe start an automated sync. */
  function reconcileLive(state: AppState): void {
    if (state.comparedRevision === undefined) {
      state.syncStatus = 'Unknown';
    } else {
      state.syncStatus =
        state.liveRevision !== undefined && state.liveTag === state.comparedTag ? 'Synced' : 'OutOfSync';
    }
    const replicas = state.config.replicas;
    if (state.liveRevision === undefined) {
      state.healthStatus = 'Missing';
      delete state.healthMessage;
    } else if (state.rolloutLeft > 0) {
      const available = Math.min(replicas - 1, Math.max(0, rolloutTicks - state.rolloutLeft) + 1);
      state.healthStatus = 'Progressing';
      state.healthMessage = `Waiting for rollout to finish: ${available} of ${replicas} updated replicas are available...`;
    } else if (state.liveTag !== undefined && degradedTags.test(state.liveTag)) {
      state.healthStatus = 'Degraded';
      state.healthMessage = `Deployment "${state.config.workload}" exceeded its progress deadline`;
    } else {
      state.healthStatus = 'Healthy';
      delete state.healthMessage;
    }
    state.reconciledAt = stamp();
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
      startOperation(state, state.comparedRevision, state.comparedTag, { automated: true }, true);
    }
  }

  function startOperation(
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
      startedAt: stamp(),
      phase: 'Running',
      message: `waiting for healthy state of apps/Deployment/${state.config.workload}`,
      ticksLeft: syncTicks,
      justStarted: true,
    };
    state.resourceVersion++;
  }

  /** One step of the cluster and the operation loop. */
  function step(state: AppState): void {
    if (state.dirty) reconcileLive(state);
    const operation = state.operation;
    if (operation?.phase === 'Running' && operation.justStarted) {
      operation.justStarted = false;
    } else if (operation?.phase === 'Running') {
      operation.ticksLeft--;
      if (operation.ticksLeft <= 0) {
        operation.phase = 'Succeeded';
        operation.message = 'successfully synced (all tasks run)';
        operation.finishedAt = stamp();
        state.liveRevision = operation.revision;
        state.liveTag = operation.tag;
        state.rolloutLeft = rolloutTicks;
        state.history.push({
          revision: operation.revision,
          deployStartedAt: operation.startedAt,
          deployedAt: operation.finishedAt,
          id: state.history.length,
          initiatedBy: operation.initiatedBy,
        });
        state.dirty = true;
      }
    } else if (state.rolloutLeft > 0) {
      state.rolloutLeft--;
      state.dirty = true;
    }
    state.resourceVersion++;
  }

  async function readApp(state: AppState, refresh: string | undefined): Promise<void> {
    if (
      refresh === 'normal' ||
      refresh === 'hard' ||
      now().getTime() - state.lastGitRefreshMs >= reconciliationMs
    ) {
      await refreshGit(state);
      reconcileLive(state);
    }
    step(state);
  }

  function render(state: AppState): Record<string, unknown> {
    const c = state.config;
    const source = { repoURL: c.repoURL, path: c.path, targetRevision: c.targetRevision };
    const destination = { server: 'https://kubernetes.default.svc', namespace: c.destinationNamespace };
    const workloadSync =
      state.syncStatus === 'Synced' ? 'Synced' : state.syncStatus === 'OutOfSync' ? 'OutOfSync' : 'Unknown';
    const workloadHealth = {
      status: state.healthStatus,
      ...(state.healthMessage ? { message: state.healthMessage } : {}),
    };
    const op = state.operation;
    const operation = op
      ? {
          sync: { revision: op.revision, ...(op.prune ? { prune: true } : {}), syncStrategy: { hook: {} } },
          initiatedBy: op.initiatedBy,
          retry: {},
        }
      : undefined;
    const status: Record<string, unknown> = {
      resources: [
        {
          version: 'v1',
          kind: 'Service',
          namespace: c.destinationNamespace,
          name: c.workload,
          status: state.liveRevision === undefined ? 'OutOfSync' : 'Synced',
          health: { status: state.liveRevision === undefined ? 'Missing' : 'Healthy' },
        },
        {
          group: 'apps',
          version: 'v1',
          kind: 'Deployment',
          namespace: c.destinationNamespace,
          name: c.workload,
          status: workloadSync,
          health: workloadHealth,
        },
      ],
      sync: {
        status: state.syncStatus,
        comparedTo: { source, destination },
        ...(state.comparedRevision ? { revision: state.comparedRevision } : {}),
      },
      health: { status: state.healthStatus },
      history: state.history.map((h) => ({ ...h, source })),
      reconciledAt: state.reconciledAt,
      ...(state.comparisonError || state.condition
        ? {
            conditions: [
              ...(state.comparisonError ? [{ type: 'ComparisonError', message: state.comparisonError }] : []),
              ...(state.condition ? [state.condition] : []),
            ].map((condition) => ({ ...condition, lastTransitionTime: state.reconciledAt })),
          }
        : {}),
      ...(op && operation
        ? {
            operationState: {
              operation,
              phase: op.phase,
              message: op.message,
              ...(op.phase === 'Running'
                ? {}
                : {
                    syncResult: {
                      resources: [
                        {
                          group: 'apps',
                          version: 'v1',
                          kind: 'Deployment',
                          namespace: c.destinationNamespace,
                          name: c.workload,
                          status: 'Synced',
                          message: `deployment.apps/${c.workload} configured`,
                          hookPhase: 'Running',
                          syncPhase: 'Sync',
                        },
                      ],
                      revision: op.revision,
                      source,
                    },
                  }),
              startedAt: op.startedAt,
              ...(op.finishedAt ? { finishedAt: op.finishedAt } : {}),
            },
          }
        : {}),
      sourceType: 'Kustomize',
      summary: state.liveTag ? { images: [`${c.image}:${state.liveTag}`] } : {},
      controllerNamespace: DEFAULT_NAMESPACE,
    };
    return {
      metadata: {
        name: c.name,
        namespace: c.namespace,
        uid: state.uid,
        resourceVersion: String(state.resourceVersion),
        generation: state.resourceVersion,
        creationTimestamp: state.createdAt,
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        source,
        destination,
        project: c.project,
        ...(c.automated ? { syncPolicy: { automated: { prune: true, selfHeal: true } } } : {}),
      },
      status,
      ...(op?.phase === 'Running' && operation ? { operation } : {}),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const bodyText = req.method === 'POST' ? await readBody(req) : '';
    let body: unknown;
    if (bodyText) {
      try {
        body = JSON.parse(bodyText);
      } catch {
        return send(res, 400, grpcError(3, 'request body is not JSON'));
      }
    }
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(body === undefined ? {} : { body }),
    });

    if (failures.count > 0) {
      failures.count--;
      return send(
        res,
        failures.status,
        grpcError(14, 'upstream connect error or disconnect/reset before headers'),
      );
    }
    if (url.pathname === '/api/version') return send(res, 200, { Version: 'v2.13.3+shiplane-stand-in' });

    const auth = req.headers.authorization;
    if (!auth) return send(res, 401, grpcError(16, 'no session information'));
    if (auth !== `Bearer ${options.token}`) {
      return send(res, 401, grpcError(16, 'invalid session: token signature is invalid'));
    }

    const match = /^\/api\/v1\/applications\/([^/]+)(\/sync)?$/.exec(url.pathname);
    if (!match) return send(res, 404, grpcError(5, `Not Found: ${url.pathname}`));
    const name = decodeURIComponent(match[1]!);
    const isSync = match[2] !== undefined;
    if ((isSync && req.method !== 'POST') || (!isSync && req.method !== 'GET')) {
      return send(res, 405, grpcError(12, 'Method Not Allowed'));
    }
    const project = isSync
      ? (body as { project?: string } | undefined)?.project
      : url.searchParams.get('project');
    const appNamespace = isSync
      ? (body as { appNamespace?: string } | undefined)?.appNamespace
      : url.searchParams.get('appNamespace');
    const state = apps.get(key(appNamespace || DEFAULT_NAMESPACE, name));
    if (!state) {
      return send(res, 404, grpcError(5, `applications.argoproj.io "${name}" not found`));
    }
    if (project && project !== state.config.project) return send(res, 403, grpcError(7, 'permission denied'));

    if (!isSync) {
      await readApp(state, url.searchParams.get('refresh') ?? undefined);
      return send(res, 200, render(state));
    }

    if (state.operation?.phase === 'Running') {
      return send(res, 400, grpcError(9, 'another operation is already in progress'));
    }
    const request = (body ?? {}) as { revision?: string; prune?: boolean };
    let revision = request.revision;
    if (!revision || !/^[0-9a-f]{40}$/.test(revision)) {
      await refreshGit(state);
      revision = state.comparedRevision;
    }
    if (!revision) return send(res, 400, grpcError(9, 'cannot resolve the target revision'));
    const tag =
      revision === state.comparedRevision ? state.comparedTag : await options.readTag(revision, state.config);
    startOperation(state, revision, tag, { username: 'admin' }, request.prune ?? false);
    return send(res, 200, render(state));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 500, grpcError(13, `stand-in failure: ${(error as Error).message}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const byName = (name: string): AppState => {
    const state = [...apps.values()].find((s) => s.config.name === name);
    if (!state) throw new Error(`the Argo CD stand-in has no app ${name}`);
    return state;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail(count, status = 503) {
      failures = { count, status };
    },
    async step(name, count = 1) {
      const state = byName(name);
      for (let i = 0; i < count; i++) step(state);
    },
    async reconcile(name) {
      const state = byName(name);
      await refreshGit(state);
      reconcileLive(state);
    },
    setCondition(name, condition) {
      const state = byName(name);
      if (condition) state.condition = { type: condition.type, message: condition.message };
      else delete state.condition;
      state.resourceVersion++;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The grpc-gateway error body Argo CD's API server answers with. */
function grpcError(code: number, message: string): { error: string; code: number; message: string } {
  return { error: message, code, message };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
