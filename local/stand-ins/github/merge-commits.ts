/**
 * The commits GitHub writes when it merges a pull request — a merge commit (two parents), a squash
 * commit (one new commit with the merged tree) or the head's commits replayed on the base — and the
 * edit a test pushes to a base to make a pull request conflict.
 */
import { GitHubApiError } from './errors.js';
import type { GitIdentity } from './git-store.js';
import { mergeTrees } from './merge-trees.js';
import { identityOf, type MergeMethod, type PullRecord } from './pull-records.js';
import type { ServedRepository } from './served-repository.js';

/** Who commits what GitHub writes for a merge (its web-flow identity). */
const GITHUB: GitIdentity = { name: 'GitHub', email: 'noreply@github.com' };

/** Writes the commit(s) a merge makes; returns the one the base will point at. */
export async function writeMerge(
  repo: ServedRepository,
  pull: PullRecord,
  method: MergeMethod,
  tree: string,
  by: GitIdentity,
): Promise<string> {
  const { store, owner } = repo;
  if (method === 'merge') {
    return store.commitTree({
      tree,
      parents: [pull.baseSha, pull.headSha],
      message: `Merge pull request #${pull.number} from ${owner}/${pull.head}\n\n${pull.title}\n`,
      author: by,
      committer: GITHUB,
    });
  }
  const mergeBase = await store.mergeBase(pull.baseSha, pull.headSha);
  const commits = await store.commitsBetween(mergeBase, pull.headSha);
  const infos = await Promise.all(commits.map((sha) => store.commitInfo(sha)));
  if (method === 'squash') {
    const lines =
      infos.length > 1
        ? `\n${infos.map((info) => `* ${info.message}`).join('\n\n')}\n`
        : (infos[0]?.message.split('\n').slice(1).join('\n') ?? '');
    return store.commitTree({
      tree,
      parents: [pull.baseSha],
      message: `${pull.title} (#${pull.number})\n${lines.trim() ? `\n${lines.trim()}\n` : ''}`,
      author: identityOf(pull.author),
      committer: GITHUB,
    });
  }
  // rebase: every head commit replayed on the base, each with its own parent as the merge base.
  let tip = pull.baseSha;
  for (const info of infos) {
    if (info.parents.length !== 1) throw new GitHubApiError(405, "This branch can't be rebased");
    const replayed = await mergeTrees(store, info.parents[0]!, tip, info.sha);
    if (!replayed) throw new GitHubApiError(405, "This branch can't be rebased");
    tip = await store.commitTree({
      tree: replayed,
      parents: [tip],
      message: `${info.message}\n`,
      author: info.author,
      committer: GITHUB,
    });
  }
  return tip;
}

/**
 * An edit of every file the pull request changes (each line of the merge base's version changed) that
 * conflicts with the pull request's, as `path → content`.
 */
export async function conflictingEdits(
  repo: ServedRepository,
  pull: PullRecord,
): Promise<Record<string, string>> {
  const { store } = repo;
  const mergeBase = await store.mergeBase(pull.baseSha, pull.headSha);
  const files: Record<string, string> = {};
  for (const file of await store.changedFiles(mergeBase, pull.headSha)) {
    const entry = mergeBase ? await store.entryAt(mergeBase, file.filename) : null;
    const before = entry?.type === 'blob' ? (await store.readBlob(entry.sha)).toString('utf8') : '';
    files[file.filename] = `${before
      .split('\n')
      .map((line) => `${line} # edited on ${pull.base}`)
      .join('\n')}\n`;
  }
  return files;
}
