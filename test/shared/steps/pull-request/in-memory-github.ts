/**
 * A GitOps repository and its pull requests in memory, for the pull-request step's unit tests: the
 * two ports over one store of commits, so a merge lands on the base branch the edit reads, with the
 * controls a person's actions need (merge or close by hand, GitHub still computing, a conflicting
 * commit on the base). The path tests run the real adapter against the GitHub stand-in instead.
 */
import { createHash } from 'node:crypto';
import {
  type BranchHead,
  type FileWrite,
  type GitOpsRepository,
  NonFastForwardError,
} from '../../../../shared/ports/gitops-repository.js';
import type {
  MergeAnswer,
  MergeMethod,
  OpenPullRequest,
  PullRequest,
  PullRequestRef,
  PullRequestStatus,
  PullRequests,
} from '../../../../shared/ports/pull-requests.js';

interface Commit {
  readonly parent: string | null;
  readonly files: ReadonlyMap<string, string>;
  readonly message: string;
}

interface Stored {
  readonly number: number;
  head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
  readonly reviewers: readonly string[];
  status: PullRequestStatus;
  /** What `get` answers for mergeable while open (null: still computing); undefined: computed from the commits. */
  mergeable?: { mergeable: boolean | null; mergeableState: string };
  readonly comments: Array<{ author: string | null; body: string }>;
}

export const BOT = 'shiplane[bot]';

export class InMemoryGitHub {
  readonly fullName: string;
  readonly commits = new Map<string, Commit>();
  readonly branches = new Map<string, string>();
  readonly pulls: Stored[] = [];
  /** Every call, by name, for asserting what was (not) done. */
  readonly calls: string[] = [];
  private counter = 0;

  constructor(fullName: string, files: Record<string, string>, branch = 'main') {
    this.fullName = fullName;
    this.branches.set(
      branch,
      this.store({ parent: null, files: new Map(Object.entries(files)), message: 'seed' }),
    );
  }

  private store(commit: Commit): string {
    const sha = createHash('sha1')
      .update(`${this.counter++}:${commit.message}`)
      .digest('hex');
    this.commits.set(sha, commit);
    return sha;
  }

  head(branch: string): string {
    const sha = this.branches.get(branch);
    if (!sha) throw new Error(`no branch ${branch}`);
    return sha;
  }

  file(path: string, ref = 'main'): string | undefined {
    const sha = this.branches.get(ref) ?? ref;
    return this.commits.get(sha)?.files.get(path);
  }

  /** Someone else commits to `branch` (a conflicting change, a newer release). */
  commitTo(branch: string, files: Record<string, string>, message = 'a commit by someone else'): string {
    const parent = this.head(branch);
    const merged = new Map(this.commits.get(parent)!.files);
    for (const [path, content] of Object.entries(files)) merged.set(path, content);
    const sha = this.store({ parent, files: merged, message });
    this.branches.set(branch, sha);
    return sha;
  }

  pull(number: number): Stored {
    const found = this.pulls.find((pull) => pull.number === number);
    if (!found) throw new Error(`no pull request #${number}`);
    return found;
  }

  /** A person merges it (GitHub's squash: the head's changes on top of the base). */
  mergeBy(number: number, login: string): string {
    const pull = this.pull(number);
    const commit = this.squash(pull);
    if (!commit) throw new Error(`#${number} conflicts`);
    pull.status = { state: 'merged', mergeCommit: commit, mergedBy: login };
    return commit;
  }

  closeBy(number: number, login: string): void {
    this.pull(number).status = { state: 'closed', closedBy: login };
  }

  setMergeable(number: number, mergeable: boolean | null, mergeableState: string): void {
    this.pull(number).mergeable = { mergeable, mergeableState };
  }

  /** The head's changes (against its parent) on the base head; undefined when the base changed the same files since. */
  private squash(pull: Stored): string | undefined {
    const headSha = this.head(pull.head);
    const head = this.commits.get(headSha)!;
    const parent = this.commits.get(head.parent!)!;
    const baseSha = this.head(pull.base);
    const base = this.commits.get(baseSha)!;
    const files = new Map(base.files);
    for (const [path, content] of head.files) {
      if (parent.files.get(path) === content) continue;
      if (base.files.get(path) !== parent.files.get(path)) return undefined;
      files.set(path, content);
    }
    const sha = this.store({ parent: baseSha, files, message: `${pull.title} (#${pull.number})` });
    this.branches.set(pull.base, sha);
    return sha;
  }

  private ref(pull: Stored): PullRequestRef {
    return {
      number: pull.number,
      url: `https://github.com/${this.fullName}/pull/${pull.number}`,
      head: pull.head,
      headCommit: this.branches.get(pull.head) ?? '0'.repeat(40),
      base: pull.base,
    };
  }

  repository(): GitOpsRepository {
    return {
      fullName: this.fullName,
      branchHead: async (branch): Promise<BranchHead> => {
        this.calls.push('branchHead');
        const commit = this.head(branch);
        return { commit, tree: `tree-${commit}` };
      },
      readFile: async (path, commit) => {
        this.calls.push('readFile');
        return this.commits.get(commit)?.files.get(path) ?? null;
      },
      createCommit: async (parent, files: readonly FileWrite[], message) => {
        this.calls.push('createCommit');
        const merged = new Map(this.commits.get(parent.commit)!.files);
        for (const { path, content } of files) {
          if (content === null) merged.delete(path);
          else merged.set(path, content);
        }
        return this.store({ parent: parent.commit, files: merged, message });
      },
      updateBranch: async (branch, commit) => {
        this.calls.push('updateBranch');
        if (this.commits.get(commit)?.parent !== this.head(branch)) throw new NonFastForwardError(branch);
        this.branches.set(branch, commit);
      },
      lastCommitTouching: async (path, commit) => {
        this.calls.push('lastCommitTouching');
        let sha: string | null = commit;
        while (sha) {
          const current: Commit = this.commits.get(sha)!;
          const before = current.parent ? this.commits.get(current.parent)?.files.get(path) : undefined;
          if (current.files.get(path) !== before) return sha;
          sha = current.parent;
        }
        return null;
      },
    };
  }

  pullRequests(): PullRequests {
    return {
      fullName: this.fullName,
      putBranch: async (branch, commit) => {
        this.calls.push('putBranch');
        this.branches.set(branch, commit);
      },
      deleteBranch: async (branch) => {
        this.calls.push('deleteBranch');
        this.branches.delete(branch);
      },
      open: async (request: OpenPullRequest) => {
        this.calls.push('open');
        const existing = this.pulls.find(
          (pull) => pull.head === request.head && pull.status.state === 'open',
        );
        if (existing) return this.ref(existing);
        const pull: Stored = {
          number: this.pulls.length + 1,
          head: request.head,
          base: request.base,
          title: request.title,
          body: request.body,
          reviewers: request.reviewers ?? [],
          status: { state: 'open', mergeable: true, mergeableState: 'clean' },
          comments: [],
        };
        this.pulls.push(pull);
        return this.ref(pull);
      },
      get: async (number): Promise<PullRequest> => {
        this.calls.push('get');
        const pull = this.pull(number);
        let { status } = pull;
        if (status.state === 'open')
          status = pull.mergeable ? { state: 'open', ...pull.mergeable } : this.computed(pull);
        return { ...this.ref(pull), title: pull.title, status };
      },
      listOpen: async (base, prefix) => {
        this.calls.push('listOpen');
        return this.pulls
          .filter(
            (pull) => pull.status.state === 'open' && pull.base === base && pull.head.startsWith(prefix),
          )
          .map((pull) => this.ref(pull));
      },
      merge: async (number, _method: MergeMethod, headCommit): Promise<MergeAnswer> => {
        this.calls.push('merge');
        const pull = this.pull(number);
        if (this.head(pull.head) !== headCommit)
          return { merged: false, reason: 'head-changed', detail: 'Head branch was modified' };
        const open = pull.mergeable ?? this.computed(pull);
        if (open.mergeable !== true || open.mergeableState === 'blocked') {
          return { merged: false, reason: 'not-mergeable', detail: 'Pull Request is not mergeable' };
        }
        const commit = this.squash(pull);
        if (!commit) return { merged: false, reason: 'not-mergeable', detail: 'Merge conflict' };
        pull.status = { state: 'merged', mergeCommit: commit, mergedBy: BOT };
        return { merged: true, commit };
      },
      comment: async (number, body) => {
        this.calls.push('comment');
        this.pull(number).comments.push({ author: BOT, body });
      },
      comments: async (number) => {
        this.calls.push('comments');
        return [...this.pull(number).comments];
      },
      close: async (number, comment) => {
        this.calls.push('close');
        const pull = this.pull(number);
        if (pull.status.state !== 'open') return;
        if (comment) pull.comments.push({ author: BOT, body: comment });
        pull.status = { state: 'closed', closedBy: BOT };
      },
    };
  }

  /** Mergeable unless the base changed a file the head changes. */
  private computed(pull: Stored): { state: 'open'; mergeable: boolean; mergeableState: string } {
    const head = this.commits.get(this.head(pull.head))!;
    const parent = this.commits.get(head.parent!)!;
    const base = this.commits.get(this.head(pull.base))!;
    for (const [path, content] of head.files) {
      if (parent.files.get(path) !== content && base.files.get(path) !== parent.files.get(path)) {
        return { state: 'open', mergeable: false, mergeableState: 'dirty' };
      }
    }
    return { state: 'open', mergeable: true, mergeableState: 'clean' };
  }
}
