/**
 * The parts of an Argo CD `Application` (argoproj.io/v1alpha1) that Shiplane reads, as the API server
 * returns them from `GET /api/v1/applications/{name}`. Objects are loose: Argo CD adds fields between
 * versions and we must not refuse an app because of one we do not read. Go's `omitempty` means
 * almost anything may be missing on a new or never-synced app, so nearly every field is optional.
 */
import * as z from 'zod';

const healthStatus = z.looseObject({
  /** Healthy, Progressing, Degraded, Suspended, Missing or Unknown. */
  status: z.string().optional(),
  message: z.string().optional(),
});

/** One entry of `spec.source` / `spec.sources`: which repository (or chart) renders part of the app. */
const applicationSource = z.looseObject({
  repoURL: z.string().optional(),
  path: z.string().optional(),
  chart: z.string().optional(),
  /** A source that only lends its files to others (`$values/…`) in multi-source apps. */
  ref: z.string().optional(),
  targetRevision: z.string().optional(),
});

const resourceStatus = z.looseObject({
  group: z.string().optional(),
  version: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  /** The resource's sync status: Synced, OutOfSync, Unknown. */
  status: z.string().optional(),
  health: healthStatus.optional(),
  hook: z.boolean().optional(),
  requiresPruning: z.boolean().optional(),
});

const syncStatus = z.looseObject({
  status: z.string().optional(),
  /** The Git revision the desired state was last compared at (single-source apps). */
  revision: z.string().optional(),
  /** One revision per source, for multi-source apps. */
  revisions: z.array(z.string()).optional(),
  comparedTo: z.unknown().optional(),
});

const resourceResult = z.looseObject({
  group: z.string().optional(),
  version: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  /** Synced, SyncFailed, Pruned, PruneSkipped. */
  status: z.string().optional(),
  message: z.string().optional(),
  hookType: z.string().optional(),
  hookPhase: z.string().optional(),
  syncPhase: z.string().optional(),
});

const syncOperationResult = z.looseObject({
  resources: z.array(resourceResult).optional(),
  revision: z.string().optional(),
  revisions: z.array(z.string()).optional(),
  source: z.unknown().optional(),
  sources: z.array(z.unknown()).optional(),
});

const operation = z.looseObject({
  sync: z
    .looseObject({
      revision: z.string().optional(),
      revisions: z.array(z.string()).optional(),
      prune: z.boolean().optional(),
    })
    .optional(),
  initiatedBy: z
    .looseObject({
      username: z.string().optional(),
      automated: z.boolean().optional(),
    })
    .optional(),
});

const operationState = z.looseObject({
  operation: operation.optional(),
  /** Running, Terminating, Failed, Error, Succeeded. */
  phase: z.string().optional(),
  message: z.string().optional(),
  syncResult: syncOperationResult.optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  retryCount: z.number().optional(),
});

const condition = z.looseObject({
  type: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});

export const applicationSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().optional(),
  }),
  spec: z
    .looseObject({
      project: z.string().optional(),
      source: applicationSource.nullish(),
      /** Multi-source apps (or one entry): `status.sync.revisions` has one revision per entry, same order. */
      sources: z.array(applicationSource).nullish(),
      sourceHydrator: z.unknown().optional(),
      syncPolicy: z.looseObject({ automated: z.unknown().optional() }).nullish(),
    })
    .optional(),
  status: z
    .looseObject({
      resources: z.array(resourceStatus).optional(),
      sync: syncStatus.optional(),
      health: healthStatus.optional(),
      conditions: z.array(condition).optional(),
      reconciledAt: z.string().optional(),
      operationState: operationState.optional(),
    })
    .optional(),
  /** Present while an operation is requested or running; cleared by the controller when it ends. */
  operation: operation.optional(),
});

export type Application = z.infer<typeof applicationSchema>;
export type ApplicationSource = z.infer<typeof applicationSource>;
export type ApplicationResourceStatus = z.infer<typeof resourceStatus>;
export type ApplicationOperationState = z.infer<typeof operationState>;
