/**
 * A run record: what one execution did, kept so delivery figures never read Step Functions history.
 * notify adds a milestone per event as the run goes and seals the record with the run's outcome on
 * the event that ends it (see runOutcomeOfEvent). Pure: the shapes and the rules that build them.
 */

import {
  commitResultSchema,
  healthCheckResultSchema,
  type Notification,
  type NotificationEvent,
  type Release,
  type RunOutcome,
  rollbackProgressSchema,
} from '../contracts/tasks.js';
import { OUTCOME_OF, retryOfDetail, rollbackOfDetail, runErrorOf } from './release-thread.js';
import { clip } from './text.js';

/** One event of a run, as the record keeps it. */
export interface RunMilestone {
  readonly event: NotificationEvent;
  /** The stage the event is about; `started`, `deployed` and a stageless `failed` have none. */
  readonly stage?: string;
  readonly at: string;
  /** `committed`: the GitOps commit; `healthy`: the revision Argo CD reported; `rolled-back`: where it landed. */
  readonly commit?: string;
  /** `committed`: false when the stage already pinned the release (a retry's `unchanged`). */
  readonly changed?: boolean;
  /** The error or verdict in one line, for degraded, timed-out and failed. */
  readonly note?: string;
}

/** What the image says about its build (OCI labels), when known: lead time then counts from the build. */
export interface ImageBuild {
  /** `org.opencontainers.image.created` */
  readonly createdAt?: string;
  /** `org.opencontainers.image.revision` */
  readonly revision?: string;
}

export type RunKind = 'promotion' | 'manual-rollback';

/** One execution, sealed when it ended. */
export interface RunRecord {
  readonly execution: string;
  readonly app: string;
  readonly tag: string;
  readonly digest: string;
  readonly pushedAt: string;
  readonly build?: ImageBuild;
  readonly kind: RunKind;
  /** A manual rollback's stage. */
  readonly rollbackStage?: string;
  /** The execution a retry retries. */
  readonly retryOf?: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: RunOutcome;
  /** In the order they happened; a repeated (stage, event) pair — a notify retry — counts once. */
  readonly milestones: readonly RunMilestone[];
}

/**
 * The outcome a notification ends its run with, if it ends one. `degraded` and `timed-out` only
 * reach notify when no rollback follows (the state machine goes to the rollback otherwise), so
 * they end the run `failed`; `rolling-back` never ends one.
 */
export function runOutcomeOfEvent(event: NotificationEvent): RunOutcome | undefined {
  return OUTCOME_OF[event];
}

/** The milestone a notification adds to its run's record. */
export function milestoneOf(notification: Notification, at: Date): RunMilestone {
  const { event, stage, detail } = notification;
  const base = { event, at: at.toISOString(), ...(stage ? { stage } : {}) };
  if (event === 'committed') {
    const commit = commitResultSchema.safeParse(detail).data;
    return commit ? { ...base, commit: commit.commit, changed: commit.status === 'committed' } : base;
  }
  if (event === 'healthy') {
    const revision = healthCheckResultSchema.safeParse(detail).data?.revision;
    return revision ? { ...base, commit: revision } : base;
  }
  if (event === 'rolled-back' || event === 'rolling-back') {
    const rollback = rollbackProgressSchema.safeParse(detail).data;
    const commit = rollback?.health?.revision ?? rollback?.commit?.commit;
    return {
      ...base,
      ...(commit && event === 'rolled-back' ? { commit } : {}),
      ...(rollback ? { note: clip(`to ${rollback.target.tag}: ${rollback.reason}`, 300) } : {}),
    };
  }
  if (event === 'degraded' || event === 'timed-out' || event === 'failed') {
    const error = runErrorOf(detail);
    return error ? { ...base, note: clip(error.cause || error.error, 300) } : base;
  }
  return base;
}

/** What a run's record starts with, from its release and its `started` detail (the run's input). */
export interface RunHeader {
  readonly execution: string;
  readonly app: string;
  readonly tag: string;
  readonly digest: string;
  readonly pushedAt: string;
  readonly kind: RunKind;
  readonly rollbackStage?: string;
  readonly retryOf?: string;
  /** The image's build, when notify read it (on the run's `started` event). */
  readonly build?: ImageBuild;
}

export function runHeaderOf(notification: Notification): RunHeader {
  const { execution, release, event, detail } = notification;
  const fromInput = event === 'started';
  const rollback = fromInput ? rollbackOfDetail(detail) : undefined;
  const retryOf = fromInput ? retryOfDetail(detail) : undefined;
  return {
    execution,
    ...releaseFacts(release),
    kind: rollback ? 'manual-rollback' : 'promotion',
    ...(rollback ? { rollbackStage: rollback.stage } : {}),
    ...(retryOf ? { retryOf } : {}),
  };
}

const releaseFacts = (release: Release) => ({
  app: release.app,
  tag: release.tag,
  digest: release.digest,
  pushedAt: release.pushedAt,
});

/** The milestones with each (stage, event) pair once, the first kept: a retried notify repeats one. */
export function distinctMilestones(milestones: readonly RunMilestone[]): RunMilestone[] {
  const seen = new Set<string>();
  return milestones.filter((milestone) => {
    const key = `${milestone.stage ?? ''}\u0000${milestone.event}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
