/**
 * The GitOps repository as the committer needs it: read a branch head and files at that commit,
 * write one commit with many file changes, move the branch only if nobody else moved it.
 *
 * Calls are few on purpose (GitHub's secondary rate limit counts them): the branch call returns
 * the head commit and its tree together; file contents are sent inline in the tree request, so
 * there are no separate blob calls; the ref update is `force: false`, which GitHub refuses with
 * 422 "Update is not a fast forward" when the branch moved — a compare-and-swap.
 */

import type { Octokit } from '@octokit/core';
import { TerminalError } from '../../errors.js';
import {
  GitHubUnavailableError,
  type GitOpsRepository,
  NonFastForwardError,
} from '../../ports/gitops-repository.js';

/** GitHub refused the credentials (401) or their permissions (403): fix the token or the app installation. */
export class GitHubAuthError extends TerminalError {
  override name = 'GitHubAuthError';
}

/** The repository, branch or path is not there, or the credentials cannot see it. */
export class GitHubNotFoundError extends TerminalError {
  override name = 'GitHubNotFoundError';
}

/** GitHub refused the request as invalid (4xx other than the above). */
export class GitHubRequestError extends TerminalError {
  override name = 'GitHubRequestError';
}

export interface GitHubRepositoryOptions {
  /** Says which credentials are used, for auth errors (see describeCredentials). */
  readonly credentials?: string;
  /** Shown in errors. @default 'GitHub' */
  readonly apiUrl?: string;
}

interface HttpLikeError {
  status?: number;
  message?: string;
  response?: { data?: { message?: string } };
}

/** A GitOpsRepository over GitHub's REST API. */
export function githubRepository(
  /** Best built by createGitHubOctokit (retries, rate limits); any Octokit works. */
  octokit: Octokit,
  fullName: string,
  options: GitHubRepositoryOptions = {},
): GitOpsRepository {
  const [owner, repo] = fullName.split('/') as [string, string];
  const where = options.apiUrl ? `${fullName} at ${options.apiUrl}` : fullName;

  /** Turns an Octokit error into one of the kinds above, saying what to check. */
  const translate = (error: unknown, action: string): Error => {
    // Already says what to fix (a GitHub App not installed on the repository's owner).
    if (error instanceof TerminalError) return error;
    const { status, message } = error as HttpLikeError;
    const detail = (error as HttpLikeError).response?.data?.message ?? message ?? String(error);
    if (status === 401) {
      return new GitHubAuthError(
        `GitHub rejected the credentials while trying to ${action} in ${where} (401 ${detail}): check ${options.credentials ?? 'the GitHub token'}`,
        { cause: error },
      );
    }
    if ((status === 403 || status === 429) && /rate limit/i.test(detail)) {
      return new GitHubUnavailableError(
        `GitHub rate limit while trying to ${action} in ${where}: ${detail}`,
        {
          cause: error,
        },
      );
    }
    if (status === 403) {
      return new GitHubAuthError(
        `GitHub refused to ${action} in ${where} (403 ${detail}): ${options.credentials ?? 'the credentials'} need contents: write on the repository`,
        { cause: error },
      );
    }
    if (status === 404) {
      return new GitHubNotFoundError(
        `GitHub found nothing to ${action} in ${where} (404): check the repository and branch names, and that ${options.credentials ?? 'the credentials'} can see the repository`,
        { cause: error },
      );
    }
    if (status !== undefined && status >= 400 && status < 500) {
      return new GitHubRequestError(`GitHub refused to ${action} in ${where} (${status} ${detail})`, {
        cause: error,
      });
    }
    return new GitHubUnavailableError(
      `GitHub is unavailable: could not ${action} in ${where}${status ? ` (${status})` : ''}: ${detail}`,
      { cause: error },
    );
  };

  return {
    fullName,

    async branchHead(branch) {
      try {
        const { data } = await octokit.request('GET /repos/{owner}/{repo}/branches/{branch}', {
          owner,
          repo,
          branch,
        });
        return { commit: data.commit.sha, tree: data.commit.commit.tree.sha };
      } catch (error) {
        throw translate(error, `read branch ${branch}`);
      }
    },

    async readFile(path, commit) {
      let data: unknown;
      try {
        ({ data } = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
          owner,
          repo,
          path,
          ref: commit,
        }));
      } catch (error) {
        if ((error as HttpLikeError).status === 404) return null;
        throw translate(error, `read ${path}`);
      }
      if (Array.isArray(data) || (data as { type?: string }).type !== 'file') {
        throw new GitHubRequestError(`${path} in ${fullName} is not a file`);
      }
      const file = data as { content?: string; encoding?: string; sha: string };
      if (file.encoding === 'base64' && typeof file.content === 'string') {
        return Buffer.from(file.content, 'base64').toString('utf8');
      }
      // Files over 1 MB come without content; the blob endpoint serves up to 100 MB.
      try {
        const { data: blob } = await octokit.request('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', {
          owner,
          repo,
          file_sha: file.sha,
        });
        return Buffer.from(blob.content, 'base64').toString('utf8');
      } catch (error) {
        throw translate(error, `read ${path}`);
      }
    },

    async createCommit(parent, files, message) {
      try {
        const { data: tree } = await octokit.request('POST /repos/{owner}/{repo}/git/trees', {
          owner,
          repo,
          base_tree: parent.tree,
          tree: files.map((file) =>
            file.content === null
              ? { path: file.path, mode: '100644' as const, type: 'blob' as const, sha: null }
              : { path: file.path, mode: '100644' as const, type: 'blob' as const, content: file.content },
          ),
        });
        const { data: commit } = await octokit.request('POST /repos/{owner}/{repo}/git/commits', {
          owner,
          repo,
          message,
          tree: tree.sha,
          parents: [parent.commit],
        });
        return commit.sha;
      } catch (error) {
        throw translate(error, 'write a commit');
      }
    },

    async updateBranch(branch, commit) {
      try {
        await octokit.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', {
          owner,
          repo,
          ref: `heads/${branch}`,
          sha: commit,
          force: false,
        });
      } catch (error) {
        const { status } = error as HttpLikeError;
        const detail = (error as HttpLikeError).response?.data?.message ?? (error as Error).message;
        if (status === 422 && /fast.forward/i.test(detail)) {
          throw new NonFastForwardError(`${branch} of ${fullName} moved since it was read`, { cause: error });
        }
        throw translate(error, `move branch ${branch}`);
      }
    },

    async lastCommitTouching(path, commit) {
      try {
        const { data } = await octokit.request('GET /repos/{owner}/{repo}/commits', {
          owner,
          repo,
          sha: commit,
          path,
          per_page: 1,
        });
        return data[0]?.sha ?? null;
      } catch (error) {
        throw translate(error, `read the history of ${path}`);
      }
    },
  };
}
