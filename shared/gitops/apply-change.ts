/**
 * Applies one requested change to a file's text, choosing the edit by the change: a Kustomize image
 * entry, a Helm values key path, or a whole-file write (secret sync). Pure: no I/O.
 */
import type { CommitChange } from '../contracts/tasks.js';
import { resolveKeyPath, setHelmValues } from '../domain/helm-values.js';
import { setKustomizeImage } from '../domain/kustomize-image.js';
import { compareReleaseTags } from '../domain/tag-order.js';
import { ManifestEditError } from '../domain/yaml-edit.js';

export interface AppliedChange {
  readonly status: 'changed' | 'unchanged';
  /** The file after the change; null when it does not exist (deleted, or never there). */
  readonly content: string | null;
  readonly previousTag: string | null;
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
    return { status, content: change.content, previousTag: null };
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
