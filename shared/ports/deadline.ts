/**
 * A time limit for the GitHub calls of one piece of work (the committer's batch). Clients built by
 * createGitHubOctokit read it: they refuse a rate-limit wait that would end after it, start no
 * request once it has passed, and abort a request still running at it. The limit travels with the
 * async context, so one client shared by several handlers (the sandbox) bounds only the work that
 * set it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<number>();

/** Runs `work` with every GitHub call it makes bounded by `deadline` (epoch milliseconds). */
export function withGitHubDeadline<T>(deadline: number, work: () => Promise<T>): Promise<T> {
  return storage.run(deadline, work);
}

/** The deadline of the work calling now, if it set one. */
export function currentGitHubDeadline(): number | undefined {
  return storage.getStore();
}

/** No time was left for a GitHub request. Not terminal: the work can be tried again later. */
export class GitHubDeadlineError extends Error {
  override name = 'GitHubDeadlineError';
}
