/**
 * Repository URLs. Whether an Argo CD source's `repoURL` points at a GitHub repository given as
 * `owner/name`: Argo CD accepts the same repository in several spellings (https with or without
 * `.git`, scp-like ssh, `ssh://` URLs, GitHub Enterprise hosts, a trailing slash), and GitHub treats
 * owner and name case-insensitively, so a plain string comparison would miss our own source. And the
 * web URL of a commit, for the links people follow from the approval and the release thread.
 */

/**
 * The `owner/name` a repository URL names, lower-cased, or undefined when the URL is not a
 * two-segment repository path (a Helm chart repository, an OCI registry path, a GitLab subgroup…).
 */
export function repositoryOfUrl(repoURL: string): string | undefined {
  const text = repoURL.trim();
  let path: string;
  const scpLike = /^(?:[^@/\s]+@)?[^:/\s]+:(?!\/\/)(.+)$/.exec(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      path = new URL(text).pathname;
    } catch {
      return undefined;
    }
  } else if (scpLike?.[1] !== undefined) {
    // git@github.com:owner/name.git — scp-like syntax has no scheme and a colon before the path.
    path = scpLike[1];
  } else {
    return undefined;
  }
  const segments = path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .split('/')
    .filter((segment) => segment.length > 0);
  if (segments.length !== 2) return undefined;
  return segments.join('/').toLowerCase();
}

/** True when `repoURL` is the repository `owner/name` on any host (github.com or an Enterprise host). */
export function isRepositoryUrl(repoURL: string, repository: string): boolean {
  return repositoryOfUrl(repoURL) === repository.replace(/\.git$/i, '').toLowerCase();
}

/**
 * The web URL of a commit in `repository` (github.com or GitHub Enterprise). Which repository a
 * commit went to is config/tag-location.ts's answer, not always `gitops.repository`.
 */
export function gitopsCommitUrl(apiUrl: string, repository: string, sha: string): string | undefined {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    return undefined;
  }
  const web =
    url.hostname === 'api.github.com'
      ? 'https://github.com'
      : `${url.protocol}//${url.host}${url.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '')}`;
  return `${web}/${repository}/commit/${sha}`;
}
