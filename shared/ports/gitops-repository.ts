/**
 * The GitOps repository as the steps need it: the committer reads a branch head and files, writes
 * one commit with many file changes and moves the branch only if nobody else moved it; the health
 * check reads files at a revision and asks whether one commit contains another. GitHub implements
 * it (shared/adapters/github); another Git host implements the same interfaces.
 *
 * The errors a step tells apart are part of the port. Their names are what an operator reads in a
 * run's error and what the next-step advice keys on, so they keep the names they were born with.
 */
export interface BranchHead {
  /** The commit the branch points at. */
  readonly commit: string;
  /** That commit's tree. */
  readonly tree: string;
}

/** A whole-file write; `content: null` deletes the file. */
export interface FileWrite {
  readonly path: string;
  readonly content: string | null;
}

export interface GitOpsRepository {
  /** `owner/name`. */
  readonly fullName: string;
  branchHead(branch: string): Promise<BranchHead>;
  /** A file's text at a commit; null when there is no such file. */
  readFile(path: string, commit: string): Promise<string | null>;
  /** Writes a commit on top of `parent` (on no branch yet); returns its sha. */
  createCommit(parent: BranchHead, files: readonly FileWrite[], message: string): Promise<string>;
  /** Moves the branch to `commit` if that is a fast-forward; NonFastForwardError when it moved meanwhile. */
  updateBranch(branch: string, commit: string): Promise<void>;
  /** The last commit at or before `commit` that changed `path`; null when none did. */
  lastCommitTouching(path: string, commit: string): Promise<string | null>;
}

/** The branch moved since it was read: re-read and re-apply. */
export class NonFastForwardError extends Error {
  override name = 'NonFastForwardError';
}

/** GitHub could not answer now (5xx, network, rate limit) after the client's retries. Worth trying later. */
export class GitHubUnavailableError extends Error {
  override name = 'GitHubUnavailableError';
}

/** Git ancestry: does a revision Argo CD reports contain our commit? A descendant counts. */
export interface Ancestry {
  /** True when `head` is `commit` or a descendant of it. */
  contains(head: string, commit: string): Promise<boolean>;
}

/** GitHub could not answer now (network, 5xx, rate limit): the caller may try again later. */
export class AncestryUnavailableError extends Error {
  override name = 'AncestryUnavailableError';
}
