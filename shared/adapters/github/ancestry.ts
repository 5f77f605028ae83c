/**
 * Git ancestry through GitHub's compare API: does a revision Argo CD reports contain our commit? A
 * later commit by someone else still carries our change, so a descendant counts. Answers are cached
 * for the life of the process: whether one commit contains another never changes.
 */
import type { Octokit } from '@octokit/core';
import { TerminalError } from '../../errors.js';
import { type Ancestry, AncestryUnavailableError } from '../../ports/gitops-repository.js';

/** GitHub refused the question (bad credentials, no access): no retry fixes it. */
export class AncestryAccessError extends TerminalError {
  override name = 'AncestryAccessError';
}

export interface GitHubAncestryOptions {
  /** An authenticated Octokit (the project's GitHub client factory builds it). */
  readonly octokit: Octokit;
  /** The GitOps repository, `owner/name`. */
  readonly repository: string;
  /** Most answers kept. @default 1000 */
  readonly cacheSize?: number;
}

export function createGitHubAncestry(options: GitHubAncestryOptions): Ancestry {
  const [owner, repo] = options.repository.split('/') as [string, string];
  const cacheSize = options.cacheSize ?? 1_000;
  const cache = new Map<string, boolean>();

  return {
    async contains(head, commit) {
      if (head === commit) return true;
      const key = `${commit}...${head}`;
      const known = cache.get(key);
      if (known !== undefined) return known;
      let status: string;
      try {
        // base...head: "ahead" means head has commits base lacks and none the other way: head descends from base.
        const { data } = await options.octokit.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
          owner,
          repo,
          basehead: key,
          per_page: 1,
        });
        status = data.status;
      } catch (error) {
        // Already says what to fix (a GitHub App not installed on the repository's owner).
        if (error instanceof TerminalError) throw error;
        const httpStatus = (error as { status?: number }).status;
        // 404: GitHub does not know one of the commits (not pushed, or another repository). Not cached:
        // replication may still be catching up.
        if (httpStatus === 404) return false;
        if (httpStatus === 401 || httpStatus === 403) {
          const rateLimited = /rate limit/i.test((error as Error).message ?? '');
          if (!rateLimited) {
            throw new AncestryAccessError(
              `GitHub refused to compare ${short(commit)}...${short(head)} in ${options.repository} (${httpStatus}): check the GitHub token or app installation can read the repository`,
              { cause: error },
            );
          }
        }
        throw new AncestryUnavailableError(
          `GitHub could not compare ${short(commit)}...${short(head)} in ${options.repository}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const contains = status === 'identical' || status === 'ahead';
      if (cache.size >= cacheSize) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(key, contains);
      return contains;
    },
  };
}

function short(revision: string): string {
  return revision.slice(0, 7);
}
