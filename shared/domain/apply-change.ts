/**
 * Applies one requested change to a file's text, choosing the edit by the change: a Kustomize image
 * entry, a Helm values key path, or a whole-file write (secret sync). Pure: no I/O.
 */
import type { CommitChange, ImageChange, ManualRollback, RollbackOf } from '../contracts/tasks.js';
import { resolveKeyPath, setHelmValues } from './helm-values.js';
import { setKustomizeImage } from './kustomize-image.js';
import { compareReleaseTags } from './tag-order.js';
import { type EditResult, ManifestEditError } from './yaml-edit.js';

export interface AppliedChange {
  readonly status: 'changed' | 'unchanged';
  /** The file after the change; null when it does not exist (deleted, or never there). */
  readonly content: string | null;
  readonly previousTag: string | null;
  /** The digest the entry pinned before; null when none (or for a file change). */
  readonly previousDigest: string | null;
}

/** The file an image change edits does not exist. */
export class GitOpsFileMissingError extends ManifestEditError {
  override name = 'GitOpsFileMissingError';
}

/**
 * The stage already pins a newer release than the change's (an older run approved after a newer one
 * went out): writing it would move the stage back.
 */
export class OlderReleaseError extends ManifestEditError {
  override name = 'OlderReleaseError';
  constructor(
    file: string,
    message: string,
    /** The newer tag the stage already pins. */
    readonly newerTag: string,
  ) {
    super(file, message);
  }
}

/**
 * A rollback the stage no longer calls for: it does not pin the run's entry any more. When a newer
 * release replaced it (`newerTag`), the run is superseded, not failed; see rollbackRefusal.
 */
export class RollbackRefusedError extends ManifestEditError {
  override name = 'RollbackRefusedError';
}

/** A rollback refused because a newer release already replaced the run's entry: the run ends Superseded. */
export class RollbackSupersededError extends OlderReleaseError {
  override name = 'RollbackSupersededError';
}

/** A path that is not a plain relative path in the repository. */
export class InvalidGitOpsPathError extends ManifestEditError {
  override name = 'InvalidGitOpsPathError';
}

/**
 * A `.git` segment in any case, or with the trailing dots and spaces Windows drops: git refuses such
 * tree entries on checkout because they can plant hooks or config in a clone (CVE-2014-9390).
 */
const DOT_GIT = /^\.git[. ]*$/i;
/** Control characters, and a backslash, which Windows checkouts read as a separator (`a\..\b`). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f\\]/;

/**
 * Normalises a repository path (`./a//b.yaml` → `a/b.yaml`); refuses absolute paths, `..`, `.git`
 * segments, backslashes and control characters.
 */
export function normalisePath(path: string): string {
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (
    path.startsWith('/') ||
    segments.length === 0 ||
    segments.includes('..') ||
    segments.some((segment) => DOT_GIT.test(segment)) ||
    UNSAFE.test(path)
  ) {
    throw new InvalidGitOpsPathError(
      path,
      `${path} is not a path inside the repository; use a relative path like environments/staging/kustomization.yaml`,
    );
  }
  return segments.join('/');
}

export function applyChange(content: string | null, change: CommitChange): AppliedChange {
  if (change.kind === 'file') {
    const status = content === change.content ? 'unchanged' : 'changed';
    return { status, content: change.content, previousTag: null, previousDigest: null };
  }
  if (content === null) {
    throw new GitOpsFileMissingError(
      change.file,
      `${change.file} does not exist; check the stage's file in the config (stage ${change.stage})`,
    );
  }
  const { release } = change;
  const digest = change.pinDigest ? release.digest : undefined;
  const result = change.valuesPath
    ? setHelmValues(change.file, content, {
        valuesPath: resolveKeyPath(change.valuesPath, release.app),
        digestPath: change.digestPath ? resolveKeyPath(change.digestPath, release.app) : undefined,
        tag: release.tag,
        digest,
        createIfMissing: change.createIfMissing,
      })
    : setKustomizeImage(change.file, content, {
        image: release.image,
        newName: release.newName,
        tag: release.tag,
        digest,
        createIfMissing: change.createIfMissing,
      });
  const { previousTag } = result;
  if (change.rollback && change.manualRollback) {
    throw new RollbackRefusedError(
      change.file,
      `a change to ${change.file} cannot be both the automatic rollback of run ${change.rollback.of} and a manual rollback`,
    );
  }
  if (change.rollback) {
    const refusal = rollbackRefusal(change, change.rollback, result);
    if (refusal) throw refusal;
    return result;
  }
  // The run check admitted it only for the run whose input asks for exactly this rollback.
  if (change.manualRollback) {
    const refusal = manualRollbackRefusal(change, change.manualRollback, result);
    if (refusal) throw refusal;
    return result;
  }
  // The queue runs changes in arrival order, not release order: never let an older run undo a newer one.
  if (previousTag !== null && (compareReleaseTags(release.tag, previousTag) ?? 0) < 0) {
    throw new OlderReleaseError(
      change.file,
      `${change.file} already pins ${release.image} ${previousTag}, newer than ${release.tag}; Shiplane does not move ${change.stage} back to an older release (to roll back, revert the commit in the GitOps repository)`,
      previousTag,
    );
  }
  return result;
}

const entry = (tag: string | null, digest: string | null) =>
  `${tag ?? '(no tag)'}${digest ? `@${digest}` : ''}`;

/**
 * Why a rollback may not be written, or undefined when it may. A rollback is the one change allowed
 * to move a stage to an older version, and only while the stage still pins exactly the entry the run
 * wrote (its tag, and its digest when the stage pins digests); a stage already back on the entry the
 * rollback restores is `unchanged` (a redelivered message). Anything else is somebody else's change
 * now, and rolling back would undo it.
 */
function rollbackRefusal(
  change: ImageChange,
  rollback: RollbackOf,
  result: EditResult,
): ManifestEditError | undefined {
  if (result.status === 'unchanged') return undefined;
  const { fromTag, fromDigest, of } = rollback;
  const { previousTag, previousDigest } = result;
  // The run's promotion wrote its digest only when the stage pins digests: no digest is its entry too.
  if (previousTag === fromTag && (previousDigest === null || previousDigest === fromDigest)) return undefined;
  const image = change.release.image;
  const pins = `${change.file} pins ${image} ${entry(previousTag, previousDigest)}, not ${entry(fromTag, fromDigest)} of run ${of}`;
  // Shiplane moves a stage forward only, so a later tag (or one with no version order) that replaced
  // the run's is a newer release; an older one is a revert somebody made, and is theirs to keep.
  if (
    previousTag !== null &&
    previousTag !== fromTag &&
    (compareReleaseTags(previousTag, fromTag) ?? 1) >= 0
  ) {
    return new RollbackSupersededError(
      change.file,
      `${pins}; a newer release replaced it, so ${change.stage} is not rolled back to ${change.release.tag}`,
      previousTag,
    );
  }
  return new RollbackRefusedError(
    change.file,
    `${pins}; Shiplane rolls back only the entry a run wrote, so ${change.stage} is not rolled back to ${change.release.tag}`,
  );
}

/**
 * Why a manual rollback (`shiplane rollback`) may not be written, or undefined when it may. It may
 * move the stage to an older version: that is what it was asked (and, where the stage needs it,
 * approved) for. It may not undo a release that reached the stage after the rollback was asked:
 * when the stage pins a newer tag than the one the rollback named as `from`, the run is superseded.
 */
function manualRollbackRefusal(
  change: ImageChange,
  rollback: ManualRollback,
  result: EditResult,
): ManifestEditError | undefined {
  if (change.stage !== rollback.stage) {
    return new RollbackRefusedError(
      change.file,
      `a manual rollback of ${rollback.stage} cannot change ${change.stage}`,
    );
  }
  const { from } = rollback;
  const { previousTag, previousDigest } = result;
  if (result.status === 'unchanged' || !from || previousTag === null || previousTag === from.tag) {
    return undefined;
  }
  // A tag with no version order counts as newer: Shiplane moves stages forward only.
  if ((compareReleaseTags(previousTag, from.tag) ?? 1) > 0) {
    return new RollbackSupersededError(
      change.file,
      `${change.file} pins ${change.release.image} ${entry(previousTag, previousDigest)}, newer than ${from.tag} the rollback was asked to replace; a newer release reached ${change.stage} since, so it is not rolled back to ${change.release.tag}`,
      previousTag,
    );
  }
  return undefined;
}
