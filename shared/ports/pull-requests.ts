/**
 * Pull requests on the GitOps repository, as pull-request mode (`stages[].pullRequest`) needs them:
 * a release's edit is committed on its own branch (`shiplane/<app>/<stage>/<tag>`, written through
 * GitOpsRepository's Git Data calls), proposed against the stage's branch, then merged by Shiplane
 * (`merge: auto`) or by a person (`merge: manual`); health is awaited at the commit the merge left
 * on the base branch. GitHub implements it (shared/adapters/github/pull-requests.ts); another Git
 * host implements the same interface.
 *
 * Errors: GitHubUnavailableError (worth trying later) and the adapter's terminal errors, as for
 * GitOpsRepository; the outcomes a step tells apart (not mergeable yet, head moved, conflict) are
 * answers, not errors.
 */

/** A pull request as the steps track it. */
export interface PullRequestRef {
  readonly number: number;
  /** The page a person opens (html_url). */
  readonly url: string;
  /** The branch proposed (without `refs/heads/`). */
  readonly head: string;
  /** The commit the head branch pointed at when read. */
  readonly headCommit: string;
  /** The branch it would merge into. */
  readonly base: string;
}

/** Where a pull request stands. */
export type PullRequestStatus =
  | {
      readonly state: 'open';
      /**
       * GitHub's `mergeable`: null while GitHub is still computing it (ask again), false when the
       * head conflicts with the base.
       */
      readonly mergeable: boolean | null;
      /** GitHub's `mergeable_state`: clean, blocked (reviews/checks required), behind, dirty, unstable, unknown… */
      readonly mergeableState: string;
    }
  | {
      readonly state: 'merged';
      /** The commit on the base branch that carries the change (merge, squash or rebase result). */
      readonly mergeCommit: string;
      readonly mergedBy: string | null;
    }
  | {
      readonly state: 'closed';
      /** Who closed it without merging, when the host says. */
      readonly closedBy: string | null;
    };

export type PullRequest = PullRequestRef & { readonly status: PullRequestStatus; readonly title: string };

export interface OpenPullRequest {
  readonly head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
  /** Logins asked to review; an unknown login must not stop the pull request from being opened. */
  readonly reviewers?: readonly string[];
}

/** What open answers: the pull request, and why reviews were not requested when the host refused them. */
export type OpenedPullRequest = PullRequestRef & {
  /** The host's reason (e.g. a login that is not a collaborator); the pull request is open regardless. */
  readonly reviewersNotRequested?: string;
};

export type MergeMethod = 'merge' | 'squash' | 'rebase';

/** What a merge attempt answered. */
export type MergeAnswer =
  | { readonly merged: true; readonly commit: string }
  /** 405: not mergeable now (checks pending, reviews required, GitHub still computing): wait and try again. */
  | { readonly merged: false; readonly reason: 'not-mergeable'; readonly detail: string }
  /** 409: the head is no longer the commit we asked to merge (someone pushed): read it again. */
  | { readonly merged: false; readonly reason: 'head-changed'; readonly detail: string };

export interface PullRequests {
  /** `owner/name`. */
  readonly fullName: string;
  /** Points `branch` at `commit`: creates it, or moves it there even when that is not a fast-forward. */
  putBranch(branch: string, commit: string): Promise<void>;
  /** Deletes the branch; one that is already gone is not an error. */
  deleteBranch(branch: string): Promise<void>;
  /**
   * Opens a pull request. When one is already open for the same head (GitHub's 422 "A pull request
   * already exists"), answers that one instead, so a retried step opens nothing twice.
   */
  open(request: OpenPullRequest): Promise<OpenedPullRequest>;
  get(number: number): Promise<PullRequest>;
  /** The open pull requests against `base` whose head branch starts with `headPrefix`. */
  listOpen(base: string, headPrefix: string): Promise<PullRequestRef[]>;
  /** Merges with `method` only if the head is still `headCommit`. */
  merge(number: number, method: MergeMethod, headCommit: string): Promise<MergeAnswer>;
  comment(number: number, body: string): Promise<void>;
  /** The pull request's conversation comments, oldest first (how a step finds Shiplane's own notes). */
  comments(number: number): Promise<Array<{ readonly author: string | null; readonly body: string }>>;
  /** Closes without merging (a comment first, when given). Closing a closed one is not an error. */
  close(number: number, comment?: string): Promise<void>;
}
