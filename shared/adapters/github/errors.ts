/**
 * How the GitHub adapters turn Octokit's errors into Shiplane's kinds: GitHubUnavailableError (5xx,
 * network, rate limit: worth trying later) or a terminal error saying what to check (credentials,
 * names, the request itself). Shared by every adapter over GitHub, so all of them say it the same way.
 */
import { TerminalError } from '../../errors.js';
import { GitHubUnavailableError } from '../../ports/gitops-repository.js';

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

/** The parts of an Octokit RequestError the adapters read. */
export interface HttpLikeError {
  status?: number;
  message?: string;
  response?: {
    data?: { message?: string; errors?: ReadonlyArray<{ message?: string; code?: string } | string> };
  };
}

/** The HTTP status of an Octokit error, if it has one. */
export const statusOf = (error: unknown): number | undefined => (error as HttpLikeError).status;

/**
 * GitHub's own words for an error: its `message`, followed by the messages of its `errors` list (a
 * 422 "Validation Failed" says what failed only there).
 */
export function detailOf(error: unknown): string {
  const data = (error as HttpLikeError).response?.data;
  const message = data?.message ?? (error as HttpLikeError).message ?? String(error);
  const details = (data?.errors ?? [])
    .map((entry) => (typeof entry === 'string' ? entry : (entry.message ?? entry.code)))
    .filter((text): text is string => Boolean(text));
  return details.length > 0 ? `${message}: ${details.join('; ')}` : message;
}

export interface TranslateContext {
  /** `owner/name`, with `at <apiUrl>` when known. */
  readonly where: string;
  /** Says which credentials are used (see describeCredentials). */
  readonly credentials?: string | undefined;
  /** The permission a 403 most likely lacks, e.g. `contents: write`. */
  readonly permission: string;
}

/** Turns an Octokit error into one of the kinds above, saying what to check. */
export function translateGitHubError(error: unknown, action: string, context: TranslateContext): Error {
  // Already says what to fix (a GitHub App not installed on the repository's owner).
  if (error instanceof TerminalError) return error;
  const status = statusOf(error);
  const detail = detailOf(error);
  const { where, credentials } = context;
  if (status === 401) {
    return new GitHubAuthError(
      `GitHub rejected the credentials while trying to ${action} in ${where} (401 ${detail}): check ${credentials ?? 'the GitHub token'}`,
      { cause: error },
    );
  }
  if ((status === 403 || status === 429) && /rate limit/i.test(detail)) {
    return new GitHubUnavailableError(`GitHub rate limit while trying to ${action} in ${where}: ${detail}`, {
      cause: error,
    });
  }
  if (status === 403) {
    return new GitHubAuthError(
      `GitHub refused to ${action} in ${where} (403 ${detail}): ${credentials ?? 'the credentials'} need ${context.permission} on the repository`,
      { cause: error },
    );
  }
  if (status === 404) {
    return new GitHubNotFoundError(
      `GitHub found nothing to ${action} in ${where} (404): check the repository and branch names, and that ${credentials ?? 'the credentials'} can see the repository`,
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
}
