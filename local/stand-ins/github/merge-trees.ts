/**
 * A three-way merge of trees in a bare repository, as GitHub computes mergeability and builds merge,
 * squash and rebase results: `read-tree -m` settles every path only one side changed, `merge-file`
 * merges the lines of a file both sides changed; what is left (both sides changed the same lines, a
 * file deleted on one side and edited on the other, binary files) is a conflict.
 *
 * The merge base is given explicitly (git 2.39's `merge-tree` cannot take one), which is what a rebase
 * needs: each commit is replayed with its own parent as the base.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitStore } from './git-store.js';

/** git's empty tree: the base when two histories share nothing. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

interface Stage {
  readonly mode: string;
  readonly sha: string;
}

/** The tree merging `ours` and `theirs` from `base` (tree-ish each), or null on a conflict. */
export async function mergeTrees(
  store: GitStore,
  base: string | null,
  ours: string,
  theirs: string,
): Promise<string | null> {
  const scratch = await mkdtemp(join(tmpdir(), 'shiplane-merge-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    await store.run(
      [
        'read-tree',
        '-i',
        '-m',
        '--aggressive',
        `${base ?? EMPTY_TREE}^{tree}`,
        `${ours}^{tree}`,
        `${theirs}^{tree}`,
      ],
      { env },
    );
    const unmerged = await unmergedPaths(store, env);
    const resolved: string[] = [];
    for (const [path, stages] of unmerged) {
      const merged = await mergeFile(store, scratch, stages);
      if (!merged) return null;
      resolved.push(`${merged.mode} ${merged.sha}\t${path}\0`);
    }
    // A stage-0 entry replaces the path's unmerged stages.
    if (resolved.length > 0) {
      await store.run(['update-index', '-z', '--index-info'], { env, input: resolved.join('') });
    }
    return (await store.run(['write-tree'], { env })).toString().trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Paths `read-tree` left unmerged, with their stages (1 base, 2 ours, 3 theirs). */
async function unmergedPaths(
  store: GitStore,
  env: NodeJS.ProcessEnv,
): Promise<Map<string, Partial<Record<1 | 2 | 3, Stage>>>> {
  const output = (await store.run(['ls-files', '-u', '-z'], { env })).toString();
  const paths = new Map<string, Partial<Record<1 | 2 | 3, Stage>>>();
  for (const line of output.split('\0').filter(Boolean)) {
    const tab = line.indexOf('\t');
    const [mode, sha, stage] = line.slice(0, tab).split(' ') as [string, string, string];
    const path = line.slice(tab + 1);
    const stages = paths.get(path) ?? {};
    stages[Number(stage) as 1 | 2 | 3] = { mode, sha };
    paths.set(path, stages);
  }
  return paths;
}

/** Merges one file's lines; null when both sides changed the same lines, or one deleted it, or it is binary. */
async function mergeFile(
  store: GitStore,
  scratch: string,
  stages: Partial<Record<1 | 2 | 3, Stage>>,
): Promise<Stage | null> {
  const ours = stages[2];
  const theirs = stages[3];
  if (!ours || !theirs) return null;
  const base = stages[1];
  const files = { base: join(scratch, 'base'), ours: join(scratch, 'ours'), theirs: join(scratch, 'theirs') };
  await writeFile(files.base, base ? await store.readBlob(base.sha) : Buffer.alloc(0));
  await writeFile(files.ours, await store.readBlob(ours.sha));
  await writeFile(files.theirs, await store.readBlob(theirs.sha));
  // Exit code: the number of conflicts (0 = clean); negative/255 for errors such as binary content.
  const result = await store.exec(['merge-file', '-p', '--quiet', files.ours, files.base, files.theirs], {
    noGitDir: true,
  });
  if (result.code !== 0) return null;
  const mode = base && ours.mode === base.mode ? theirs.mode : ours.mode;
  return { mode, sha: await store.writeBlob(result.stdout) };
}
