/**
 * The pull requests of the served repository, with GitHub's rules: one open pull request per head
 * and base, none without commits, mergeability computed from the git store (a three-way merge of head
 * and base from their merge base: `dirty` on a conflict), required checks that block merging while
 * they are held, merges that really write the merge / squash / rebase result and move the base by
 * compare-and-swap, and a pull request closed when its head branch is deleted.
 */
import { GitHubApiError } from './errors.js';
import type { GitIdentity } from './git-store.js';
import { conflictingEdits, writeMerge } from './merge-commits.js';
import { mergeTrees } from './merge-trees.js';
import {
  type CommentRecord,
  loginOf,
  type Mergeability,
  type MergeMethod,
  type PullRecord,
} from './pull-records.js';
import type { ServedRepository } from './served-repository.js';

/** GitHub's 422 "Validation Failed", saying in `errors` what failed (as the pulls endpoints do). */
class ValidationFailed extends GitHubApiError {
  constructor(errors: ReadonlyArray<Record<string, string>>) {
    super(422, 'Validation Failed', 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request', errors);
  }
}

/** GitHub's limit on a pull request's body and on a comment, in characters. */
export const BODY_LIMIT = 65_536;

const tooLong = (resource: string) =>
  new ValidationFailed([
    {
      resource,
      field: 'body',
      code: 'custom',
      message: `body is too long (maximum is ${BODY_LIMIT} characters)`,
    },
  ]);

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class PullRequestStore {
  private readonly pulls: PullRecord[] = [];
  private nextComment = 1;
  /** The required check held pending, if any. */
  private heldCheck: string | undefined;
  /** Reads left that answer `mergeable: null`. */
  private pendingReads = 0;
  /** The merged tree (null: a conflict) of each base and head commit pair computed so far. */
  private readonly merges = new Map<string, string | null>();

  constructor(
    readonly repo: ServedRepository,
    /** Logins reviews may be requested from. */
    private readonly collaborators: ReadonlySet<string>,
  ) {}

  /** Opens a pull request, or says why GitHub would not. */
  create(input: { title?: unknown; body?: unknown; head?: unknown; base?: unknown; author: string }) {
    return this.repo.serialise(async () => {
      const { store, owner } = this.repo;
      if (typeof input.title !== 'string' || input.title.trim() === '') {
        throw new ValidationFailed([{ resource: 'PullRequest', code: 'missing_field', field: 'title' }]);
      }
      if (typeof input.head !== 'string' || typeof input.base !== 'string') {
        throw new ValidationFailed([{ resource: 'PullRequest', code: 'missing_field', field: 'head' }]);
      }
      // `owner:branch` names the head's repository; only this one is served.
      const [headOwner, headBranch] = input.head.includes(':')
        ? input.head.split(':', 2)
        : [owner, input.head];
      const head = headOwner!.toLowerCase() === owner.toLowerCase() ? headBranch! : undefined;
      const headSha = head ? await store.refTarget(`refs/heads/${head}`) : null;
      const baseSha = await store.refTarget(`refs/heads/${input.base}`);
      if (!head || !headSha)
        throw new ValidationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      if (!baseSha) throw new ValidationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
      if (
        this.pulls.some((pull) => pull.state === 'open' && pull.head === head && pull.base === input.base)
      ) {
        throw new ValidationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${owner}:${head}.`,
          },
        ]);
      }
      if (typeof input.body === 'string' && input.body.length > BODY_LIMIT) throw tooLong('Issue');
      if ((await store.countBetween(baseSha, headSha)) === 0) {
        throw new ValidationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `No commits between ${input.base} and ${head}`,
          },
        ]);
      }
      const created = now();
      const pull: PullRecord = {
        number: this.pulls.length + 1,
        title: input.title,
        body: typeof input.body === 'string' ? input.body : null,
        head,
        base: input.base,
        author: input.author,
        state: 'open',
        merged: false,
        mergedBy: null,
        mergedAt: null,
        mergeCommit: null,
        closedBy: null,
        closedAt: null,
        createdAt: created,
        updatedAt: created,
        headSha,
        baseSha,
        reviewers: [],
        comments: [],
      };
      this.pulls.push(pull);
      return pull;
    });
  }

  /** The pull request (an issue number of a pull request too), with its head and base read now; 404 if none. */
  async find(number: number): Promise<PullRecord> {
    const pull = this.record(number);
    await this.refresh([pull]);
    return pull;
  }

  /** The pull request as last read (no git call); 404 if none. */
  private record(number: number): PullRecord {
    const pull = this.pulls[number - 1];
    if (!Number.isInteger(number) || !pull) throw new GitHubApiError(404, 'Not Found');
    return pull;
  }

  /** Pull requests, newest first (GitHub's default order), filtered as `GET /pulls` filters. */
  async list(filter: { state: string; head?: string | undefined; base?: string | undefined }) {
    const chosen = this.pulls
      .filter((pull) => filter.state === 'all' || pull.state === filter.state)
      .filter((pull) => filter.base === undefined || pull.base === filter.base)
      .filter(
        (pull) =>
          filter.head === undefined ||
          `${this.repo.owner}:${pull.head}`.toLowerCase() === filter.head.toLowerCase(),
      )
      .reverse();
    await this.refresh(chosen);
    return chosen;
  }

  /**
   * Mergeability of an open pull request, computed from the git store now; null while GitHub is
   * "still computing" it (see computeLater).
   */
  async mergeability(pull: PullRecord): Promise<Mergeability | null> {
    if (this.pendingReads > 0) {
      this.pendingReads--;
      return null;
    }
    const tree = await this.mergedTree(pull);
    if (!tree) return { mergeable: false, state: 'dirty' };
    return this.heldCheck ? { mergeable: true, state: 'blocked' } : { mergeable: true, state: 'clean' };
  }

  /**
   * Merges with `method` (as the API or a person on the page does); `sha` must be the head. Moves the
   * base and answers the commit that carries the change there.
   */
  merge(number: number, options: { method: MergeMethod; sha?: string | undefined; by: GitIdentity }) {
    return this.repo.serialise(async () => {
      const pull = await this.find(number);
      if (pull.state !== 'open') throw new GitHubApiError(405, 'Pull Request is not mergeable');
      if (options.sha !== undefined && options.sha !== pull.headSha) {
        throw new GitHubApiError(409, 'Head branch was modified. Review and try the merge again.');
      }
      const tree = await this.mergedTree(pull);
      if (!tree) throw new GitHubApiError(405, 'Pull Request is not mergeable');
      if (this.heldCheck)
        throw new GitHubApiError(405, `Required status check "${this.heldCheck}" is expected.`);
      const commit = await writeMerge(this.repo, pull, options.method, tree, options.by);
      if (!(await this.repo.store.updateRef(`refs/heads/${pull.base}`, commit, pull.baseSha))) {
        throw new GitHubApiError(405, 'Base branch was modified. Review and try the merge again.');
      }
      const at = now();
      Object.assign(pull, {
        state: 'closed',
        merged: true,
        mergedBy: loginOf(options.by),
        mergedAt: at,
        closedAt: at,
        updatedAt: at,
        mergeCommit: commit,
        baseSha: commit,
      });
      return commit;
    });
  }

  /** Closes without merging (closing a closed one changes nothing). */
  async close(number: number, by: string): Promise<PullRecord> {
    const pull = await this.find(number);
    if (pull.state === 'open') {
      const at = now();
      Object.assign(pull, { state: 'closed', closedBy: by, closedAt: at, updatedAt: at });
    }
    return pull;
  }

  /** Reopens a closed, unmerged pull request whose head is still there. */
  async reopen(number: number): Promise<PullRecord> {
    const pull = await this.find(number);
    if (pull.state === 'open') return pull;
    const head = await this.repo.store.refTarget(`refs/heads/${pull.head}`);
    const duplicate = this.pulls.some((other) => other.state === 'open' && other.head === pull.head);
    if (pull.merged || !head || duplicate) {
      throw new GitHubApiError(
        422,
        'Validation Failed: state cannot be changed. The head branch was deleted or another pull request is open.',
      );
    }
    Object.assign(pull, { state: 'open', closedBy: null, closedAt: null, updatedAt: now(), headSha: head });
    return pull;
  }

  /** GitHub closes an open pull request whose head branch is deleted. */
  headDeleted(branch: string, by: string): void {
    for (const pull of this.pulls) {
      if (pull.state === 'open' && pull.head === branch) {
        const at = now();
        Object.assign(pull, { state: 'closed', closedBy: by, closedAt: at, updatedAt: at });
      }
    }
  }

  async requestReviewers(number: number, logins: readonly string[]): Promise<PullRecord> {
    const pull = await this.find(number);
    if (logins.includes(pull.author)) {
      throw new GitHubApiError(422, 'Review cannot be requested from pull request author.');
    }
    if (logins.some((login) => !this.collaborators.has(login))) {
      throw new GitHubApiError(
        422,
        `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${this.repo.fullName} repository.`,
      );
    }
    for (const login of logins) if (!pull.reviewers.includes(login)) pull.reviewers.push(login);
    return pull;
  }

  async addComment(number: number, body: string, author: string): Promise<CommentRecord> {
    const pull = this.record(number);
    if (body.length > BODY_LIMIT) throw tooLong('IssueComment');
    const comment = { id: this.nextComment++, author, body, createdAt: now() };
    pull.comments.push(comment);
    pull.updatedAt = comment.createdAt;
    return comment;
  }

  /**
   * Commits to the base, as another writer, an edit of every file the pull request changes that
   * conflicts with the pull request's (each of its lines changed); returns the commit.
   */
  pushConflict(number: number, author: GitIdentity): Promise<string> {
    return this.repo.serialise(async () => {
      const pull = await this.find(number);
      const files = await conflictingEdits(this.repo, pull);
      if (Object.keys(files).length === 0) throw new Error(`pull request #${number} changes no file`);
      const message = `Conflicting edit on ${pull.base}\n`;
      return this.repo.commitFiles(pull.base, pull.baseSha, files, message, author, author);
    });
  }

  /** The next `reads` reads of an open pull request answer `mergeable: null` (GitHub still computing). */
  computeLater(reads: number): void {
    this.pendingReads = reads;
  }

  /** Required status check `context` stays pending (merges blocked) until release is called. */
  holdChecks(context: string): () => void {
    this.heldCheck = context;
    return () => {
      if (this.heldCheck === context) this.heldCheck = undefined;
    };
  }

  /** Reads the heads and bases of open pull requests again (someone may have pushed): one git call. */
  private async refresh(pulls: readonly PullRecord[]): Promise<void> {
    if (!pulls.some((pull) => pull.state === 'open')) return;
    const heads = new Map(
      (await this.repo.store.listRefs('refs/heads')).map(({ ref, sha }) => [
        ref.slice('refs/heads/'.length),
        sha,
      ]),
    );
    for (const pull of pulls) {
      if (pull.state !== 'open') continue;
      pull.headSha = heads.get(pull.head) ?? pull.headSha;
      pull.baseSha = heads.get(pull.base) ?? pull.baseSha;
    }
  }

  /** The tree head and base merge to, or null on a conflict. */
  private async mergedTree(pull: PullRecord): Promise<string | null> {
    // Commits never change, so neither does their merge: computed once per pair (GitHub caches it too).
    const key = `${pull.baseSha}:${pull.headSha}`;
    const known = this.merges.get(key);
    if (known !== undefined) return known;
    const { store } = this.repo;
    const tree = await mergeTrees(
      store,
      await store.mergeBase(pull.baseSha, pull.headSha),
      pull.baseSha,
      pull.headSha,
    );
    this.merges.set(key, tree);
    return tree;
  }
}
