/**
 * Pull requests over GitHub's REST API (the PullRequests port): branches through the Git Data refs
 * endpoints, pull requests through /pulls, comments and who closed one through /issues (a pull
 * request is an issue to GitHub).
 *
 * Each method is safe to repeat after a failure part way (a retried step): creating a branch that
 * exists moves it; opening a pull request that is open answers the open one; deleting a branch that
 * is gone, or closing a closed pull request, does nothing; a comment a close already left is not
 * left twice. The outcomes a step tells apart — not mergeable yet (405), head moved (409) — are
 * answers; everything else is an error of errors.ts.
 */

import type { Octokit } from '@octokit/core';
import type {
  MergeAnswer,
  PullRequestRef,
  PullRequestStatus,
  PullRequests,
} from '../../ports/pull-requests.js';
import { detailOf, GitHubRequestError, statusOf, translateGitHubError } from './errors.js';
import type { GitHubRepositoryOptions } from './repository.js';

/** The fields of GitHub's pull request JSON this adapter reads. */
interface PullJson {
  number: number;
  html_url: string;
  title: string;
  state: string;
  merged?: boolean;
  merge_commit_sha?: string | null;
  merged_by?: { login: string } | null;
  mergeable?: boolean | null;
  mergeable_state?: string;
  head: { ref: string; sha: string; repo?: { full_name: string } | null };
  base: { ref: string };
}

/** GitHub's largest page. */
const PER_PAGE = 100;

/**
 * The URL of the next page in a `Link` header, if there is one. It must be on the API's own origin:
 * the client sends the credentials with it.
 */
export function nextPageUrl(link: string | undefined, apiBaseUrl: string): string | undefined {
  const next = link?.match(/<([^>]+)>;\s*rel="next"/)?.[1];
  if (next === undefined) return undefined;
  if (new URL(next, apiBaseUrl).origin !== new URL(apiBaseUrl).origin) {
    throw new GitHubRequestError(
      `GitHub's next page ${next} is not on ${new URL(apiBaseUrl).origin}; not following it`,
    );
  }
  return next;
}

/** A PullRequests over GitHub for the repository `fullName` (`owner/name`). */
export function githubPullRequests(
  /** Best built by createGitHubOctokit (retries, rate limits); any Octokit works. */
  octokit: Octokit,
  fullName: string,
  options: GitHubRepositoryOptions = {},
): PullRequests {
  const [owner, repo] = fullName.split('/') as [string, string];
  const where = options.apiUrl ? `${fullName} at ${options.apiUrl}` : fullName;
  const translate = (error: unknown, action: string, permission = 'pull requests: write'): Error =>
    // An error this adapter raised itself already says what it is.
    error instanceof GitHubRequestError
      ? error
      : translateGitHubError(error, action, { where, credentials: options.credentials, permission });

  const refOf = (pull: PullJson): PullRequestRef => ({
    number: pull.number,
    url: pull.html_url,
    head: pull.head.ref,
    headCommit: pull.head.sha,
    base: pull.base.ref,
  });

  /** Every page of a list endpoint, following GitHub's `Link: <…>; rel="next"`. */
  const everyPage = async <T>(route: string, parameters: Record<string, unknown>): Promise<T[]> => {
    const items: T[] = [];
    const apiBaseUrl = String(octokit.request.endpoint.DEFAULTS.baseUrl);
    const nextOf = (link: string | undefined) => nextPageUrl(link, apiBaseUrl);
    let response = await octokit.request(route, { owner, repo, ...parameters, per_page: PER_PAGE });
    items.push(...(response.data as T[]));
    for (let next = nextOf(response.headers.link); next; next = nextOf(response.headers.link)) {
      response = await octokit.request({ method: 'GET', url: next });
      items.push(...(response.data as T[]));
    }
    return items;
  };

  const readPull = async (number: number): Promise<PullJson> => {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
      owner,
      repo,
      pull_number: number,
    });
    return data as PullJson;
  };

  const statusOfPull = async (pull: PullJson): Promise<PullRequestStatus> => {
    if (pull.merged) {
      if (!pull.merge_commit_sha) {
        throw new GitHubRequestError(
          `pull request #${pull.number} of ${where} is merged but names no commit`,
        );
      }
      return { state: 'merged', mergeCommit: pull.merge_commit_sha, mergedBy: pull.merged_by?.login ?? null };
    }
    if (pull.state === 'closed') {
      // Only the issue says who closed it.
      const { data: issue } = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', {
        owner,
        repo,
        issue_number: pull.number,
      });
      return { state: 'closed', closedBy: issue.closed_by?.login ?? null };
    }
    return {
      state: 'open',
      mergeable: pull.mergeable ?? null,
      mergeableState: pull.mergeable_state ?? 'unknown',
    };
  };

  const ownHead = (pull: PullJson) => pull.head.repo?.full_name.toLowerCase() === fullName.toLowerCase();

  const comments: PullRequests['comments'] = async (number) => {
    try {
      const list = await everyPage<{ body?: string; user?: { login: string } | null }>(
        'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
        { issue_number: number },
      );
      return list.map((comment) => ({ author: comment.user?.login ?? null, body: comment.body ?? '' }));
    } catch (error) {
      throw translate(error, `read the comments of pull request #${number}`, 'issues: read');
    }
  };

  const comment: PullRequests['comment'] = async (number, body) => {
    try {
      await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner,
        repo,
        issue_number: number,
        body,
      });
    } catch (error) {
      throw translate(error, `comment on pull request #${number}`);
    }
  };

  return {
    fullName,

    async putBranch(branch, commit) {
      try {
        await octokit.request('POST /repos/{owner}/{repo}/git/refs', {
          owner,
          repo,
          ref: `refs/heads/${branch}`,
          sha: commit,
        });
        return;
      } catch (error) {
        if (!(statusOf(error) === 422 && /already exists/i.test(detailOf(error)))) {
          throw translate(error, `create branch ${branch}`, 'contents: write');
        }
      }
      // The branch is there from an earlier attempt or release: point it at this commit.
      try {
        await octokit.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', {
          owner,
          repo,
          ref: `heads/${branch}`,
          sha: commit,
          force: true,
        });
      } catch (error) {
        throw translate(error, `move branch ${branch}`, 'contents: write');
      }
    },

    async deleteBranch(branch) {
      try {
        await octokit.request('DELETE /repos/{owner}/{repo}/git/refs/{ref}', {
          owner,
          repo,
          ref: `heads/${branch}`,
        });
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 || (status === 422 && /does not exist/i.test(detailOf(error)))) return;
        throw translate(error, `delete branch ${branch}`, 'contents: write');
      }
    },

    async open(request) {
      let pull: PullJson;
      try {
        const { data } = await octokit.request('POST /repos/{owner}/{repo}/pulls', {
          owner,
          repo,
          title: request.title,
          head: request.head,
          base: request.base,
          body: request.body,
          maintainer_can_modify: false,
        });
        pull = data as PullJson;
      } catch (error) {
        if (!(statusOf(error) === 422 && /pull request already exists/i.test(detailOf(error)))) {
          throw translate(error, `open a pull request from ${request.head} into ${request.base}`);
        }
        pull = await openFor(request.head, request.base);
      }
      if (request.reviewers && request.reviewers.length > 0) {
        try {
          await octokit.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', {
            owner,
            repo,
            pull_number: pull.number,
            reviewers: [...request.reviewers],
          });
        } catch (error) {
          // 422: a login that is not a collaborator (or the author). The pull request stands without them.
          if (statusOf(error) !== 422) {
            throw translate(error, `request reviews on pull request #${pull.number}`);
          }
          return { ...refOf(pull), reviewersNotRequested: detailOf(error) };
        }
      }
      return refOf(pull);
    },

    async get(number) {
      try {
        const pull = await readPull(number);
        return { ...refOf(pull), title: pull.title, status: await statusOfPull(pull) };
      } catch (error) {
        throw translate(error, `read pull request #${number}`, 'pull requests: read');
      }
    },

    async listOpen(base, headPrefix) {
      try {
        const pulls = await everyPage<PullJson>('GET /repos/{owner}/{repo}/pulls', { state: 'open', base });
        // A fork's pull request may use the same branch name; only ours count.
        return pulls.filter((pull) => ownHead(pull) && pull.head.ref.startsWith(headPrefix)).map(refOf);
      } catch (error) {
        throw translate(error, `list the open pull requests into ${base}`, 'pull requests: read');
      }
    },

    async merge(number, method, headCommit): Promise<MergeAnswer> {
      try {
        const { data } = await octokit.request('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', {
          owner,
          repo,
          pull_number: number,
          merge_method: method,
          sha: headCommit,
        });
        return { merged: true, commit: data.sha };
      } catch (error) {
        const status = statusOf(error);
        if (status === 405) return { merged: false, reason: 'not-mergeable', detail: detailOf(error) };
        if (status === 409) return { merged: false, reason: 'head-changed', detail: detailOf(error) };
        throw translate(error, `merge pull request #${number}`, 'contents: write');
      }
    },

    comment,
    comments,

    async close(number, note) {
      let pull: PullJson;
      try {
        pull = await readPull(number);
      } catch (error) {
        throw translate(error, `read pull request #${number}`);
      }
      if (pull.state !== 'open') return;
      // A retry after the comment went out but the close did not must not say it twice.
      if (note !== undefined && !(await comments(number)).some((existing) => existing.body === note)) {
        await comment(number, note);
      }
      try {
        await octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
          owner,
          repo,
          pull_number: number,
          state: 'closed',
        });
      } catch (error) {
        throw translate(error, `close pull request #${number}`);
      }
    },
  };

  /** The open pull request from our `head` into `base` (after GitHub said one exists). */
  async function openFor(head: string, base: string): Promise<PullJson> {
    let pulls: PullJson[];
    try {
      ({ data: pulls } = (await octokit.request('GET /repos/{owner}/{repo}/pulls', {
        owner,
        repo,
        state: 'open',
        head: `${owner}:${head}`,
        base,
      })) as { data: PullJson[] });
    } catch (error) {
      throw translate(error, `find the open pull request from ${head}`);
    }
    const found = pulls.find((pull) => pull.head.ref === head && pull.base.ref === base);
    if (!found) {
      // It exists against another base, or was closed in between: nothing this step should adopt.
      throw new GitHubRequestError(
        `GitHub says a pull request from ${head} already exists in ${where}, but none is open into ${base}`,
      );
    }
    return found;
  }
}
