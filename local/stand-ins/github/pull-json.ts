/** GitHub's JSON for pull requests, the issues they are, their comments and the users on them. */
import { createHash } from 'node:crypto';
import type { CommentRecord, Mergeability, PullRecord } from './pull-records.js';
import { nodeId, type ServedRepository } from './served-repository.js';

/** A stable numeric id for a login (GitHub's ids are numbers). */
const idOf = (text: string) => createHash('sha256').update(text).digest().readUInt32BE(0);

export function userJson(base: string, login: string) {
  return {
    login,
    id: idOf(login),
    node_id: nodeId('U', login),
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false,
    url: `${base}/users/${encodeURIComponent(login)}`,
    html_url: `https://github.com/${login}`,
  };
}

function repositoryJson(base: string, repo: ServedRepository) {
  return {
    id: 1,
    node_id: nodeId('R', repo.fullName),
    name: repo.repo,
    full_name: repo.fullName,
    owner: { login: repo.owner, type: 'Organization' },
    private: true,
    html_url: repo.htmlUrl,
    url: repo.apiUrl(base),
    default_branch: repo.branch,
  };
}

/**
 * A pull request as `GET /pulls/{n}` (with `mergeability`, for an open one) or `GET /pulls` (without:
 * the list leaves out merged, mergeable and the counts) shows it.
 */
export function pullJson(
  base: string,
  repo: ServedRepository,
  pull: PullRecord,
  detail?: { mergeability: Mergeability | null },
) {
  const api = repo.apiUrl(base);
  const html = `${repo.htmlUrl}/pull/${pull.number}`;
  const side = (ref: string, sha: string) => ({
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: { login: repo.owner, type: 'Organization' },
    repo: repositoryJson(base, repo),
  });
  const summary = {
    url: `${api}/pulls/${pull.number}`,
    id: 1000 + pull.number,
    node_id: nodeId('PR', `${repo.fullName}#${pull.number}`),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(base, pull.author),
    body: pull.body,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommit,
    requested_reviewers: pull.reviewers.map((login) => userJson(base, login)),
    labels: [],
    draft: false,
    head: side(pull.head, pull.headSha),
    base: side(pull.base, pull.baseSha),
    author_association: 'MEMBER',
  };
  if (!detail) return summary;
  return {
    ...summary,
    merged: pull.merged,
    mergeable: detail.mergeability?.mergeable ?? null,
    mergeable_state: detail.mergeability?.state ?? (pull.state === 'open' ? 'unknown' : 'clean'),
    merged_by: pull.mergedBy ? userJson(base, pull.mergedBy) : null,
    comments: pull.comments.length,
    maintainer_can_modify: false,
  };
}

/** The issue a pull request is (`GET /issues/{n}`): where GitHub says who closed it. */
export function issueJson(base: string, repo: ServedRepository, pull: PullRecord) {
  const api = repo.apiUrl(base);
  return {
    url: `${api}/issues/${pull.number}`,
    id: 2000 + pull.number,
    node_id: nodeId('I', `${repo.fullName}#${pull.number}`),
    html_url: `${repo.htmlUrl}/pull/${pull.number}`,
    number: pull.number,
    state: pull.state,
    state_reason: pull.state === 'closed' && !pull.merged ? 'not_planned' : null,
    title: pull.title,
    body: pull.body,
    user: userJson(base, pull.author),
    labels: [],
    locked: false,
    comments: pull.comments.length,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    closed_by: pull.merged
      ? pull.mergedBy && userJson(base, pull.mergedBy)
      : pull.closedBy
        ? userJson(base, pull.closedBy)
        : null,
    pull_request: {
      url: `${api}/pulls/${pull.number}`,
      html_url: `${repo.htmlUrl}/pull/${pull.number}`,
      diff_url: `${repo.htmlUrl}/pull/${pull.number}.diff`,
      patch_url: `${repo.htmlUrl}/pull/${pull.number}.patch`,
      merged_at: pull.mergedAt,
    },
    author_association: 'MEMBER',
  };
}

export function commentJson(base: string, repo: ServedRepository, number: number, comment: CommentRecord) {
  const api = repo.apiUrl(base);
  return {
    id: comment.id,
    node_id: nodeId('IC', String(comment.id)),
    url: `${api}/issues/comments/${comment.id}`,
    html_url: `${repo.htmlUrl}/pull/${number}#issuecomment-${comment.id}`,
    issue_url: `${api}/issues/${number}`,
    body: comment.body,
    user: userJson(base, comment.author),
    created_at: comment.createdAt,
    updated_at: comment.createdAt,
    author_association: 'MEMBER',
  };
}

/**
 * One page of a list, with GitHub's `Link` header (next, last, first, prev) when there is more than
 * one page. `per_page` at most 100 (default 30), `page` from 1.
 */
export function paged<T>(items: readonly T[], base: string, path: string, query: URLSearchParams) {
  const perPage = Math.min(Math.max(Number(query.get('per_page') ?? 30) || 30, 1), 100);
  const page = Math.max(Number(query.get('page') ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (to: number, rel: string) => {
    const params = new URLSearchParams(query);
    params.set('per_page', String(perPage));
    params.set('page', String(to));
    return `<${base}${path}?${params.toString()}>; rel="${rel}"`;
  };
  const links = [
    ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
    ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
  ];
  return {
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}
