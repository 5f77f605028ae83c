/**
 * The parts of an Argo CD `Application` (argoproj.io/v1alpha1) that Shiplane reads, as the API server
 * returns them from `GET /api/v1/applications/{name}`. Objects are loose: Argo CD adds fields between
 * versions and we must not refuse an app because of one we do not read. Go's `omitempty` means
 * almost anything may be missing on a new or never-synced app, so nearly every field is optional.
 */
import * as z from '../contracts/zod.js';

const healthStatus = z.looseObject({
  /** Healthy, Progressing, Degraded, Suspended, Missing or Unknown. */
  status: z.optional(z.string()),
  message: z.optional(z.string()),
});

/** One entry of `spec.source` / `spec.sources`: which repository (or chart) renders part of the app. */
const applicationSource = z.looseObject({
  repoURL: z.optional(z.string()),
  path: z.optional(z.string()),
  chart: z.optional(z.string()),
  /** A source that only lends its files to others (`$values/…`) in multi-source apps. */
  ref: z.optional(z.string()),
  targetRevision: z.optional(z.string()),
});

/** Which Kubernetes object a resource entry is about, as Argo CD names it in status and sync results. */
const resourceIdentity = {
  group: z.optional(z.string()),
  version: z.optional(z.string()),
  kind: z.optional(z.string()),
  namespace: z.optional(z.string()),
  name: z.optional(z.string()),
};

const resourceStatus = z.looseObject({
  ...resourceIdentity,
  /** The resource's sync status: Synced, OutOfSync, Unknown. */
  status: z.optional(z.string()),
  health: z.optional(healthStatus),
  hook: z.optional(z.boolean()),
  requiresPruning: z.optional(z.boolean()),
});

const syncStatus = z.looseObject({
  status: z.optional(z.string()),
  /** The Git revision the desired state was last compared at (single-source apps). */
  revision: z.optional(z.string()),
  /** One revision per source, for multi-source apps. */
  revisions: z.optional(z.array(z.string())),
  comparedTo: z.optional(z.unknown()),
});

const resourceResult = z.looseObject({
  ...resourceIdentity,
  /** Synced, SyncFailed, Pruned, PruneSkipped. */
  status: z.optional(z.string()),
  message: z.optional(z.string()),
  hookType: z.optional(z.string()),
  hookPhase: z.optional(z.string()),
  syncPhase: z.optional(z.string()),
});

const syncOperationResult = z.looseObject({
  resources: z.optional(z.array(resourceResult)),
  revision: z.optional(z.string()),
  revisions: z.optional(z.array(z.string())),
  source: z.optional(z.unknown()),
  sources: z.optional(z.array(z.unknown())),
});

const operation = z.looseObject({
  sync: z.optional(
    z.looseObject({
      revision: z.optional(z.string()),
      revisions: z.optional(z.array(z.string())),
      prune: z.optional(z.boolean()),
    }),
  ),
  initiatedBy: z.optional(
    z.looseObject({
      username: z.optional(z.string()),
      automated: z.optional(z.boolean()),
    }),
  ),
});

const operationState = z.looseObject({
  operation: z.optional(operation),
  /** Running, Terminating, Failed, Error, Succeeded. */
  phase: z.optional(z.string()),
  message: z.optional(z.string()),
  syncResult: z.optional(syncOperationResult),
  startedAt: z.optional(z.string()),
  finishedAt: z.optional(z.string()),
  retryCount: z.optional(z.number()),
});

const condition = z.looseObject({
  type: z.optional(z.string()),
  message: z.optional(z.string()),
  lastTransitionTime: z.optional(z.string()),
});

export const applicationSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.optional(z.string()),
  }),
  spec: z.optional(
    z.looseObject({
      project: z.optional(z.string()),
      source: z.nullish(applicationSource),
      /** Multi-source apps (or one entry): `status.sync.revisions` has one revision per entry, same order. */
      sources: z.nullish(z.array(applicationSource)),
      sourceHydrator: z.optional(z.unknown()),
      syncPolicy: z.nullish(z.looseObject({ automated: z.optional(z.unknown()) })),
    }),
  ),
  status: z.optional(
    z.looseObject({
      resources: z.optional(z.array(resourceStatus)),
      sync: z.optional(syncStatus),
      health: z.optional(healthStatus),
      conditions: z.optional(z.array(condition)),
      reconciledAt: z.optional(z.string()),
      operationState: z.optional(operationState),
    }),
  ),
  /** Present while an operation is requested or running; cleared by the controller when it ends. */
  operation: z.optional(operation),
});

export type Application = z.infer<typeof applicationSchema>;
export type ApplicationSource = z.infer<typeof applicationSource>;
export type ApplicationResourceStatus = z.infer<typeof resourceStatus>;
export type ApplicationOperationState = z.infer<typeof operationState>;
