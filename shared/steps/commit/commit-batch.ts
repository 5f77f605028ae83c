/**
 * One commit for a batch of changes to one branch: read the head, read each file once, apply every
 * change in order, write one commit, and move the branch with compare-and-swap. When someone else
 * moved the branch meanwhile, start over from the new head (bounded attempts, jittered back-off):
 * the changes are re-applied to what is there now, so nobody's update is lost.
 *
 * A change that cannot be applied (missing entry, bad YAML, missing file) fails alone; the others
 * still commit. Nothing is half-written: the branch moves once, or not at all.
 */

import type { CommitChange } from '../../contracts/tasks.js';
import { applyChange, normalisePath, RollbackRefusedError } from '../../domain/apply-change.js';
import { commitMessage } from '../../domain/commit-message.js';
import { ManifestEditError } from '../../domain/yaml-edit.js';
import type { BranchHead, FileWrite, GitOpsRepository } from '../../ports/gitops-repository.js';
import { NonFastForwardError } from '../../ports/gitops-repository.js';

export interface CommitItem {
  /** Identifies the item in the outcome (the SQS message id). */
  readonly id: string;
  /** The execution waiting for this change, for the commit trailers. */
  readonly execution?: string | undefined;
  readonly change: CommitChange;
}

export type ItemOutcome =
  | {
      readonly id: string;
      readonly status: 'committed' | 'unchanged';
      /**
       * The commit that put the change in place: the new commit, or — when the file already had it —
       * the last commit that changed the file. Argo CD's last sync operation ran at (or after) that
       * commit, so a health check waits for the right operation instead of one that never comes.
       */
      readonly commit: string;
      readonly previousTag: string | null;
      readonly previousDigest: string | null;
    }
  | { readonly id: string; readonly status: 'failed'; readonly error: ManifestEditError };

export interface BatchOutcome {
  /** The commit written, or null when no change altered a file. */
  readonly commit: string | null;
  /** The branch head after the batch. */
  readonly head: string;
  /** Read-apply-write rounds (1 unless the branch moved under us). */
  readonly attempts: number;
  readonly items: readonly ItemOutcome[];
}

export interface CommitBatchOptions {
  /** Rounds before giving up on a branch that keeps moving. @default 5 */
  readonly maxAttempts?: number;
  /** First back-off after a conflict, in ms; doubles per round, with full jitter. @default 250 */
  readonly backoffBaseMs?: number;
  /** @default 5000 */
  readonly backoffMaxMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** Told about every conflict (for logs and metrics). */
  readonly onConflict?: (attempt: number) => void;
}

/** A later change in the same batch set the same image again: this one never reaches the branch. */
export class ReplacedInBatchError extends ManifestEditError {
  override name = 'ReplacedInBatchError';
  constructor(
    file: string,
    message: string,
    /** The tag of the later change that replaced this one. */
    readonly newerTag: string | undefined,
  ) {
    super(file, message);
  }
}

/** The branch moved on every attempt. The work is intact and may be retried later. */
export class BranchContentionError extends Error {
  override name = 'BranchContentionError';
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function commitBatch(
  repository: GitOpsRepository,
  branch: string,
  items: readonly CommitItem[],
  options: CommitBatchOptions = {},
): Promise<BatchOutcome> {
  const maxAttempts = options.maxAttempts ?? 5;
  const base = options.backoffBaseMs ?? 250;
  const cap = options.backoffMaxMs ?? 5000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  for (let attempt = 1; ; attempt++) {
    const head = await repository.branchHead(branch);
    const round = await applyAll(repository, head, items);
    const changed = round.writes;
    if (changed.length === 0) {
      const outcomes = await pointUnchangedAtLastChange(
        repository,
        round.outcomes(head.commit),
        paths(items),
      );
      return { commit: null, head: head.commit, attempts: attempt, items: outcomes };
    }
    const message = commitMessage(
      round.applied.map((item) => ({ change: item.change, execution: item.execution })),
    );
    const commit = await repository.createCommit(head, changed, message);
    try {
      await repository.updateBranch(branch, commit);
      const outcomes = await pointUnchangedAtLastChange(repository, round.outcomes(commit), paths(items));
      return { commit, head: commit, attempts: attempt, items: outcomes };
    } catch (error) {
      if (!(error instanceof NonFastForwardError)) throw error;
      options.onConflict?.(attempt);
      if (attempt >= maxAttempts) {
        throw new BranchContentionError(
          `${branch} of ${repository.fullName} moved during each of ${maxAttempts} attempts to commit; the changes will be retried`,
          { cause: error },
        );
      }
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1))));
    }
  }
}

const paths = (items: readonly CommitItem[]) => new Map(items.map((item) => [item.id, item.change.file]));

/**
 * An unchanged item's commit becomes the last commit that touched its file (one API call per file,
 * only when something was unchanged). If that lookup fails the head stays: it contains the change,
 * and the batch's own commit must not be reported as failed after it landed.
 */
export async function pointUnchangedAtLastChange(
  repository: GitOpsRepository,
  outcomes: ItemOutcome[],
  files: ReadonlyMap<string, string>,
): Promise<ItemOutcome[]> {
  const lookups = new Map<string, Promise<string | null>>();
  return Promise.all(
    outcomes.map(async (outcome) => {
      if (outcome.status !== 'unchanged') return outcome;
      const file = normalisePath(files.get(outcome.id)!);
      let lookup = lookups.get(file);
      if (!lookup) {
        lookup = repository.lastCommitTouching(file, outcome.commit).catch(() => null);
        lookups.set(file, lookup);
      }
      const commit = await lookup;
      return commit ? { ...outcome, commit } : outcome;
    }),
  );
}

/** Whether the file's final text already holds the change (applying it again would alter nothing). */
function survives(content: string | null, change: CommitChange): boolean {
  try {
    return applyChange(content, change).status === 'unchanged';
  } catch (error) {
    if (!(error instanceof ManifestEditError)) throw error;
    return false;
  }
}

/** The tag of the last later image change in the batch that applied to the same file (the one that replaced `item`). */
function laterTag(
  items: readonly CommitItem[],
  item: CommitItem,
  path: string,
  paths: ReadonlyMap<string, string>,
  results: ReadonlyMap<string, unknown>,
): string | undefined {
  let tag: string | undefined;
  for (const other of items.slice(items.indexOf(item) + 1)) {
    if (
      other.change.kind === 'image' &&
      paths.get(other.id) === path &&
      !(results.get(other.id) instanceof ManifestEditError)
    ) {
      tag = other.change.release.tag;
    }
  }
  return tag;
}

/**
 * A rollback only its own run may ask for: one that names another execution (or none) would let a
 * sender undo a change it did not make.
 */
function foreignRollback(item: CommitItem): RollbackRefusedError | undefined {
  const { change } = item;
  if (change.kind !== 'image' || !change.rollback || change.rollback.of === item.execution) return undefined;
  return new RollbackRefusedError(
    change.file,
    `the rollback of ${change.rollback.of}'s ${change.release.image} ${change.rollback.fromTag} in ${change.stage} was sent by ${item.execution ? `run ${item.execution}` : 'no run'}; a run may roll back only its own change`,
  );
}

export interface Round {
  /** Files whose text differs from the head's. */
  readonly writes: FileWrite[];
  /** Items whose change altered a file, in order. */
  readonly applied: CommitItem[];
  outcomes(commit: string): ItemOutcome[];
}

/**
 * Reads each file once at the head and applies every item to the working copies, in order. The
 * pull-request step applies a release's edit with it too, so both write modes edit alike.
 */
export async function applyAll(
  repository: GitOpsRepository,
  head: BranchHead,
  items: readonly CommitItem[],
): Promise<Round> {
  const paths = new Map<string, string>();
  const pathErrors = new Map<string, ManifestEditError>();
  for (const item of items) {
    try {
      paths.set(item.id, normalisePath(item.change.file));
    } catch (error) {
      if (!(error instanceof ManifestEditError)) throw error;
      pathErrors.set(item.id, error);
    }
  }
  const distinct = [...new Set(paths.values())];
  const originals = new Map<string, string | null>(
    await Promise.all(
      distinct.map(async (path) => [path, await repository.readFile(path, head.commit)] as const),
    ),
  );
  const working = new Map(originals);

  const results = new Map<
    string,
    | { status: 'changed' | 'unchanged'; previousTag: string | null; previousDigest: string | null }
    | ManifestEditError
  >();
  const applied: CommitItem[] = [];
  for (const item of items) {
    const path = paths.get(item.id);
    if (path === undefined) {
      results.set(item.id, pathErrors.get(item.id)!);
      continue;
    }
    const refused = foreignRollback(item);
    if (refused) {
      results.set(item.id, refused);
      continue;
    }
    try {
      const result = applyChange(working.get(path) ?? null, item.change);
      working.set(path, result.content);
      results.set(item.id, {
        status: result.status,
        previousTag: result.previousTag,
        previousDigest: result.previousDigest,
      });
      if (result.status === 'changed') applied.push(item);
    } catch (error) {
      if (!(error instanceof ManifestEditError)) throw error;
      results.set(item.id, error);
    }
  }

  // An image change a later one in the batch replaced is not in the commit: its run must not wait for
  // (and vouch for) a rollout of another release.
  for (const item of items) {
    const path = paths.get(item.id);
    if (
      item.change.kind !== 'image' ||
      path === undefined ||
      results.get(item.id) instanceof ManifestEditError
    ) {
      continue;
    }
    if (!survives(working.get(path) ?? null, item.change)) {
      const later = laterTag(items, item, path, paths, results);
      results.set(
        item.id,
        new ReplacedInBatchError(
          item.change.file,
          `${item.change.release.image} ${item.change.release.tag} was replaced in the same commit to ${item.change.file} by a later release${later ? ` (${later})` : ''}; it is not deployed to ${item.change.stage}`,
          later,
        ),
      );
      const index = applied.indexOf(item);
      if (index >= 0) applied.splice(index, 1);
    }
  }

  const writes: FileWrite[] = [];
  for (const [path, content] of working) {
    if (content !== originals.get(path)) writes.push({ path, content });
  }
  // A change undone by a later one in the same batch leaves the file as it was: nothing to commit for it.
  const committed = new Set(writes.map((write) => write.path));

  return {
    writes,
    applied: applied.filter((item) => committed.has(paths.get(item.id)!)),
    outcomes(commit) {
      return items.map((item): ItemOutcome => {
        const result = results.get(item.id)!;
        if (result instanceof ManifestEditError) return { id: item.id, status: 'failed', error: result };
        const status =
          result.status === 'changed' && committed.has(paths.get(item.id)!) ? 'committed' : 'unchanged';
        return {
          id: item.id,
          status,
          commit,
          previousTag: result.previousTag,
          previousDigest: result.previousDigest,
        };
      });
    },
  };
}
