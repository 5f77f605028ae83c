/**
 * The GitOps repository's files at fixed revisions, for the health check. A file at a commit SHA and
 * the history behind that commit never change, so answers are kept for the life of the process (a
 * warm Lambda container): polling the same revision asks GitHub once, not once per poll.
 */
import type { GitOpsRepository } from '../../ports/gitops-repository.js';

export interface RevisionFiles {
  /** A file's text at a commit; null when there is no such file there. */
  read(path: string, revision: string): Promise<string | null>;
  /** The last commit at or before `revision` that changed `path`; null when none did. */
  lastChange(path: string, revision: string): Promise<string | null>;
}

export interface RevisionFilesOptions {
  /** Most answers kept; the oldest goes first. @default 64 */
  readonly cacheSize?: number;
}

/** Caches a repository's answers per revision and path. Errors are not cached: the next poll asks again. */
export function cachedRevisionFiles(
  repository: Pick<GitOpsRepository, 'readFile' | 'lastCommitTouching'>,
  options: RevisionFilesOptions = {},
): RevisionFiles {
  const cacheSize = options.cacheSize ?? 64;
  const cache = new Map<string, string | null>();

  const remember = async (key: string, ask: () => Promise<string | null>): Promise<string | null> => {
    if (cache.has(key)) return cache.get(key) ?? null;
    const answer = await ask();
    if (cache.size >= cacheSize) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(key, answer);
    return answer;
  };

  return {
    read: (path, revision) => remember(`read ${revision} ${path}`, () => repository.readFile(path, revision)),
    lastChange: (path, revision) =>
      remember(`last ${revision} ${path}`, () => repository.lastCommitTouching(path, revision)),
  };
}
