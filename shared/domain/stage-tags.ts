/**
 * What Shiplane knows of an app's tags in one stage, kept in the approvals table's
 * `deployed#<app>#<stage>` item: a short history of the tags the stage ran Synced and Healthy
 * (newest last, capped) and the entry Shiplane last put there. `shiplane rollback` reads "the
 * previous healthy tag" from it without reading git history. Pure: the adapters store what these
 * functions return.
 */
import type { Release } from '../contracts/tasks.js';

/** How many healthy tags a stage keeps per app. */
export const HEALTHY_HISTORY_LIMIT = 10;

/** One tag a stage ran Synced and Healthy. */
export interface DeployedTag {
  readonly tag: string;
  readonly digest: string;
  /** The run that deployed it. */
  readonly execution: string;
  /** When Shiplane saw it healthy. */
  readonly at: string;
  /** The GitOps revision Argo CD reported Synced and Healthy at. */
  readonly commit?: string;
  /** The release as that run had it: what a rollback run starts with. Absent in items written before. */
  readonly release?: Release;
}

/** The entry Shiplane last committed to the stage (it may not be healthy: that is why it matters). */
export interface PinnedTag {
  readonly tag: string;
  /** Absent when a rollback restored a tag whose entry pinned no digest. */
  readonly digest?: string;
  readonly execution: string;
  readonly at: string;
  readonly commit?: string;
}

export interface StageTags {
  /** Distinct tag + digest, oldest first, at most HEALTHY_HISTORY_LIMIT. */
  readonly healthy: readonly DeployedTag[];
  readonly pinned?: PinnedTag;
}

export const EMPTY_STAGE_TAGS: StageTags = { healthy: [] };

const sameEntry = (a: { tag: string; digest?: string }, b: { tag: string; digest?: string }) =>
  a.tag === b.tag && (a.digest === undefined || b.digest === undefined || a.digest === b.digest);

/**
 * The entry just seen healthy becomes the newest (an earlier record of the same tag and digest
 * moves up rather than repeating), the oldest fall off past `limit`. The verdict also says what the
 * stage pins now (Argo CD checked the file at that revision), which mends a pin that was missed.
 */
export function withHealthy(tags: StageTags, entry: DeployedTag, limit = HEALTHY_HISTORY_LIMIT): StageTags {
  const healthy = [...tags.healthy.filter((earlier) => !sameEntry(earlier, entry)), entry].slice(-limit);
  const pinned: PinnedTag = {
    tag: entry.tag,
    digest: entry.digest,
    execution: entry.execution,
    at: entry.at,
    ...(entry.commit ? { commit: entry.commit } : {}),
  };
  return { healthy, pinned };
}

/** A commit put `pinned` in the stage: what it runs from now on, healthy or not. */
export function withPinned(tags: StageTags, pinned: PinnedTag): StageTags {
  return { ...tags, pinned };
}

/** What the stage runs now as far as Shiplane knows: the last pin, else the newest healthy tag. */
export function currentEntry(tags: StageTags): { tag: string; digest?: string } | undefined {
  const entry = tags.pinned ?? tags.healthy.at(-1);
  return entry && { tag: entry.tag, ...(entry.digest ? { digest: entry.digest } : {}) };
}

/** What a manual rollback goes to, and from. */
export interface RollbackChoice {
  readonly target: DeployedTag & { readonly release: Release };
  readonly from: { readonly tag: string; readonly digest?: string } | null;
}

const listed = (entries: readonly DeployedTag[]) =>
  entries.length === 0
    ? 'none'
    : [...entries]
        .reverse()
        .map((entry) => entry.tag)
        .join(', ');

/**
 * The tag a manual rollback of `app` in `stage` puts back: `to` when given (it must be a tag the
 * stage ran healthy and not the one it runs now), else the newest healthy tag other than the one it
 * runs now. Returns one sentence saying why when there is none.
 */
export function chooseRollbackTarget(
  tags: StageTags,
  request: { readonly app: string; readonly stage: string; readonly to?: string | undefined },
): RollbackChoice | { readonly problem: string } {
  const { app, stage, to } = request;
  const current = currentEntry(tags);
  const from = current ? { tag: current.tag, ...(current.digest ? { digest: current.digest } : {}) } : null;
  const newestFirst = [...tags.healthy].reverse();
  const recorded = `Shiplane's record of ${app} healthy in ${stage}, newest first: ${listed(tags.healthy)}`;
  const usable = (entry: DeployedTag | undefined) => {
    if (!entry) return undefined;
    if (!entry.release) {
      return {
        problem: `${app} ${entry.tag} was recorded healthy in ${stage} before Shiplane kept the release with it; it cannot start a rollback to it`,
      };
    }
    return { target: { ...entry, release: entry.release }, from };
  };
  if (to !== undefined) {
    const entry = newestFirst.find((candidate) => candidate.tag === to);
    if (!entry) {
      return {
        problem: `${stage} never ran ${app} ${to} Synced and Healthy, so Shiplane will not roll back to it (${recorded})`,
      };
    }
    if (current && sameEntry(entry, current)) {
      return { problem: `${stage} already runs ${app} ${to}; nothing to roll back` };
    }
    return usable(entry)!;
  }
  if (tags.healthy.length === 0) {
    return {
      problem: `Shiplane has no healthy tag of ${app} recorded in ${stage} yet; it records one each time ${stage} turns Synced and Healthy`,
    };
  }
  const entry = newestFirst.find((candidate) => !current || !sameEntry(candidate, current));
  if (!entry) {
    return {
      problem: `${stage} has no earlier healthy tag of ${app} than the one it runs (${current?.tag}) to roll back to (${recorded}); pass --to TAG for another one`,
    };
  }
  return usable(entry)!;
}
