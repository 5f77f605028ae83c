/**
 * An Application as Argo CD's API returns it (`GET /api/v1/applications/{name}`): spec, and a status
 * with sync, health, resources, history, conditions and the operation state — the fields Shiplane's
 * client reads, shaped like the real ones.
 */
import { type AppState, DEFAULT_NAMESPACE, type Operation } from './controller.js';

type Source = { repoURL: string; path: string; targetRevision: string };

export function renderApplication(state: AppState): Record<string, unknown> {
  const c = state.config;
  const source: Source = { repoURL: c.repoURL, path: c.path, targetRevision: c.targetRevision };
  const destination = { server: 'https://kubernetes.default.svc', namespace: c.destinationNamespace };
  const op = state.operation;
  const operation = op ? operationOf(op) : undefined;
  const status: Record<string, unknown> = {
    resources: resourcesOf(state),
    sync: {
      status: state.syncStatus,
      comparedTo: { source, destination },
      ...(state.comparedRevision ? { revision: state.comparedRevision } : {}),
    },
    health: { status: state.healthStatus },
    history: state.history.map((h) => ({ ...h, source })),
    reconciledAt: state.reconciledAt,
    ...conditionsOf(state),
    ...(op && operation ? { operationState: operationStateOf(state, op, operation, source) } : {}),
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

/** The `operation` Argo CD records for a sync (also the top-level `operation` while it runs). */
function operationOf(op: Operation) {
  return {
    sync: { revision: op.revision, ...(op.prune ? { prune: true } : {}), syncStrategy: { hook: {} } },
    initiatedBy: op.initiatedBy,
    retry: {},
  };
}

/** The app's Service and Deployment: the Deployment carries the sync and health the app reports. */
function resourcesOf(state: AppState) {
  const c = state.config;
  const workloadSync =
    state.syncStatus === 'Synced' ? 'Synced' : state.syncStatus === 'OutOfSync' ? 'OutOfSync' : 'Unknown';
  return [
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
      health: {
        status: state.healthStatus,
        ...(state.healthMessage ? { message: state.healthMessage } : {}),
      },
    },
  ];
}

/** `status.conditions` when Git could not be read or a test set a condition; nothing otherwise. */
function conditionsOf(state: AppState) {
  if (!state.comparisonError && !state.condition) return {};
  return {
    conditions: [
      ...(state.comparisonError ? [{ type: 'ComparisonError', message: state.comparisonError }] : []),
      ...(state.condition ? [state.condition] : []),
    ].map((condition) => ({ ...condition, lastTransitionTime: state.reconciledAt })),
  };
}

/** `status.operationState`: the phase, and once finished the sync result at the synced revision. */
function operationStateOf(
  state: AppState,
  op: Operation,
  operation: ReturnType<typeof operationOf>,
  source: Source,
) {
  const c = state.config;
  return {
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
  };
}
