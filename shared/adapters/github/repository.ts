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
import { type GitOpsRepository, NonFastForwardError } from '../../ports/gitops-repository.js';
import { detailOf, GitHubRequestError, statusOf, translateGitHubError } from './errors.js';

// The error kinds moved to errors.ts (the pull-request adapter shares them); importers keep this path.
export { GitHubAuthError, GitHubNotFoundError, GitHubRequestError } from './errors.js';

export interface GitHubRepositoryOptions {
  /** Says which credentials are used, for auth errors (see describeCredentials). */
  readonly credentials?: string;
  /** Shown in errors. @default 'GitHub' */
  readonly apiUrl?: string;
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

  const translate = (error: unknown, action: string): Error =>
    translateGitHubError(error, action, {
      where,
      credentials: options.credentials,
      permission: 'contents: write',
    });

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
        if (statusOf(error) === 404) return null;
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
        if (statusOf(error) === 422 && /fast.forward/i.test(detailOf(error))) {
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
