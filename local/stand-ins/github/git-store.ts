/**
 * A git repository driven through git's plumbing commands, the way GitHub's Git Data API maps onto
 * git: blobs, trees built on a base tree, commits with explicit parents, and ref updates that are
 * compare-and-swap. Commits are real: `git log` in the repository shows them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

export interface CommitInfo {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: GitIdentity & { readonly date: string };
  readonly committer: GitIdentity & { readonly date: string };
  readonly message: string;
}

export interface TreeEntry {
  readonly path: string;
  readonly mode: string;
  readonly type: 'blob' | 'tree' | 'commit';
  readonly sha: string;
  readonly size?: number;
}

/** A change to a tree: a blob at a path, or `sha: null` to delete the path. */
export interface TreeChange {
  readonly path: string;
  readonly mode: string;
  readonly sha: string | null;
}

export interface FileChangeSummary {
  readonly filename: string;
  readonly status: 'added' | 'removed' | 'modified' | 'renamed';
  readonly additions: number;
  readonly deletions: number;
}

export class GitCommandError extends Error {
  override name = 'GitCommandError';
}

const SHA = /^[0-9a-f]{40}$/;

/** ISO 8601 in UTC without milliseconds, as GitHub writes dates. */
const isoUtc = (date: string) => new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class GitStore {
  private indexCounter = 0;

  private constructor(
    /** The repository's git directory (a bare repository, or the .git of a working copy). */
    readonly gitDir: string,
    /** Temp directory for private index files; holds the repository too when this store created it. */
    private readonly scratch: string,
  ) {}

  /** A new bare repository in a temp directory, with one commit holding `files` when given. */
  static async create(options: {
    readonly branch: string;
    readonly files?: Readonly<Record<string, string>>;
    readonly author: GitIdentity;
  }): Promise<GitStore> {
    const root = await mkdtemp(join(tmpdir(), 'shiplane-github-'));
    const gitDir = join(root, 'repo.git');
    const store = new GitStore(gitDir, root);
    await store.run(['init', '--quiet', '--bare', `--initial-branch=${options.branch}`, gitDir], {
      noGitDir: true,
    });
    if (options.files && Object.keys(options.files).length > 0) {
      const changes: TreeChange[] = [];
      for (const [path, content] of Object.entries(options.files)) {
        changes.push({ path, mode: '100644', sha: await store.writeBlob(Buffer.from(content)) });
      }
      const tree = await store.buildTree(null, changes);
      const commit = await store.commitTree({
        tree,
        parents: [],
        message: 'Initial commit\n',
        author: options.author,
        committer: options.author,
      });
      await store.updateRef(`refs/heads/${options.branch}`, commit, null);
    }
    return store;
  }

  /** Serves an existing repository in place (bare, or a working copy's .git). */
  static async open(repoDir: string): Promise<GitStore> {
    const scratch = await mkdtemp(join(tmpdir(), 'shiplane-github-'));
    const probe = new GitStore(repoDir, scratch);
    const gitDir = (await probe.run(['-C', repoDir, 'rev-parse', '--absolute-git-dir'], { noGitDir: true }))
      .toString()
      .trim();
    return new GitStore(gitDir, scratch);
  }

  /** Removes the temp directory (and the repository, when this store created it). */
  async dispose(): Promise<void> {
    await rm(this.scratch, { recursive: true, force: true });
  }

  /** Runs git against this repository; resolves with the exit code and output, whatever the code. */
  exec(
    args: readonly string[],
    options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; noGitDir?: boolean } = {},
  ): Promise<{ code: number; stdout: Buffer; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', args, {
        env: {
          PATH: process.env.PATH,
          HOME: this.scratch,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_TERMINAL_PROMPT: '0',
          LANG: 'C',
          ...(options.noGitDir ? {} : { GIT_DIR: this.gitDir }),
          ...options.env,
        },
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      // A command may exit before reading all of its input; that is its answer, not an error.
      child.stdin?.on('error', () => undefined);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({
          code: code ?? -1,
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err).toString().trim(),
        }),
      );
      child.stdin?.end(options.input);
    });
  }

  /** Runs git and resolves with stdout; a non-zero exit is a GitCommandError carrying stderr. */
  async run(
    args: readonly string[],
    options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; noGitDir?: boolean } = {},
  ): Promise<Buffer> {
    const result = await this.exec(args, options);
    if (result.code !== 0) {
      throw new GitCommandError(`git ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    }
    return result.stdout;
  }

  private async text(args: readonly string[], options?: Parameters<GitStore['run']>[1]): Promise<string> {
    return (await this.run(args, options)).toString();
  }

  /** Resolves a revision (sha, branch, `refs/...`, tag) to a commit sha, or null. */
  async resolveCommit(revision: string): Promise<string | null> {
    if (revision.startsWith('-') || revision.includes('..')) return null;
    const { stdout } = await this.exec(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
    const sha = stdout.toString().trim();
    return SHA.test(sha) ? sha : null;
  }

  /** The sha a ref points at (any object type), or null. */
  async refTarget(ref: string): Promise<string | null> {
    const { stdout } = await this.exec(['rev-parse', '--verify', '--quiet', ref]);
    const sha = stdout.toString().trim();
    return SHA.test(sha) ? sha : null;
  }

  async objectType(sha: string): Promise<string | null> {
    if (!SHA.test(sha)) return null;
    const { code, stdout } = await this.exec(['cat-file', '-t', sha]);
    return code === 0 ? stdout.toString().trim() : null;
  }

  async listRefs(prefix: string): Promise<{ ref: string; sha: string }[]> {
    const output = await this.text(['for-each-ref', '--format=%(refname) %(objectname)', prefix]);
    return output
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [ref, sha] = line.split(' ') as [string, string];
        return { ref, sha };
      });
  }

  async commitInfo(sha: string): Promise<CommitInfo> {
    const format = '%H%n%T%n%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI%n%B';
    const output = await this.text(['show', '-s', `--format=${format}`, sha]);
    const [hash, tree, parents, an, ae, ad, cn, ce, cd, ...message] = output.split('\n');
    return {
      sha: hash!,
      tree: tree!,
      parents: parents ? parents.split(' ') : [],
      author: { name: an!, email: ae!, date: isoUtc(ad!) },
      committer: { name: cn!, email: ce!, date: isoUtc(cd!) },
      message: message.join('\n').replace(/\n+$/, ''),
    };
  }

  /** The entry at `path` in a commit or tree, or null when there is none. */
  async entryAt(treeish: string, path: string): Promise<TreeEntry | null> {
    const clean = path.replace(/^\/+|\/+$/g, '');
    if (clean === '') {
      const sha = (await this.text(['rev-parse', `${treeish}^{tree}`])).trim();
      return { path: '', mode: '040000', type: 'tree', sha };
    }
    const output = await this.text(['ls-tree', '--long', '--full-tree', treeish, '--', clean]);
    const line = output.split('\n').find(Boolean);
    if (!line) return null;
    return parseTreeLine(line);
  }

  /** The entries of a tree (one level, or every blob below it when recursive). */
  async listTree(treeish: string, recursive: boolean): Promise<TreeEntry[]> {
    const args = ['ls-tree', '--long', '--full-tree', ...(recursive ? ['-r', '-t'] : []), treeish];
    return (await this.text(args)).split('\n').filter(Boolean).map(parseTreeLine);
  }

  async readBlob(sha: string): Promise<Buffer> {
    return this.run(['cat-file', 'blob', sha]);
  }

  async writeBlob(content: Buffer): Promise<string> {
    return (await this.text(['hash-object', '-w', '--stdin'], { input: content })).trim();
  }

  /** Applies changes to a base tree (or to an empty tree) in a private index; returns the new tree. */
  async buildTree(baseTree: string | null, changes: readonly TreeChange[]): Promise<string> {
    const env = { GIT_INDEX_FILE: join(this.scratch, `index-${process.pid}-${this.indexCounter++}`) };
    try {
      if (baseTree) await this.run(['read-tree', baseTree], { env });
      else await this.run(['read-tree', '--empty'], { env });
      if (changes.length > 0) {
        // --index-info: `mode sha<TAB>path`; mode 0 removes the path (works in a bare repository).
        const lines = changes.map((change) =>
          change.sha === null
            ? `0 ${'0'.repeat(40)}\t${change.path}\0`
            : `${change.mode} ${change.sha}\t${change.path}\0`,
        );
        await this.run(['update-index', '--add', '-z', '--index-info'], { env, input: lines.join('') });
      }
      return (await this.text(['write-tree'], { env })).trim();
    } finally {
      await rm(env.GIT_INDEX_FILE, { force: true });
    }
  }

  async commitTree(input: {
    readonly tree: string;
    readonly parents: readonly string[];
    readonly message: string;
    readonly author: GitIdentity & { readonly date?: string };
    readonly committer: GitIdentity & { readonly date?: string };
  }): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      GIT_AUTHOR_NAME: input.author.name,
      GIT_AUTHOR_EMAIL: input.author.email,
      GIT_COMMITTER_NAME: input.committer.name,
      GIT_COMMITTER_EMAIL: input.committer.email,
      ...(input.author.date ? { GIT_AUTHOR_DATE: input.author.date } : {}),
      ...(input.committer.date ? { GIT_COMMITTER_DATE: input.committer.date } : {}),
    };
    const args = ['commit-tree', input.tree, ...input.parents.flatMap((parent) => ['-p', parent])];
    // --cleanup=verbatim is not available to commit-tree; the message goes in exactly as given.
    return (await this.text(args, { env, input: input.message })).trim();
  }

  /**
   * Points a ref at a commit only if it still points at `expected` (null: the ref must not exist).
   * Returns false when someone else moved it first.
   */
  async updateRef(ref: string, sha: string, expected: string | null): Promise<boolean> {
    const { code } = await this.exec(['update-ref', ref, sha, expected ?? '0'.repeat(40)]);
    return code === 0;
  }

  async deleteRef(ref: string, expected: string): Promise<boolean> {
    const { code } = await this.exec(['update-ref', '-d', ref, expected]);
    return code === 0;
  }

  /** True when `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const { code } = await this.exec(['merge-base', '--is-ancestor', ancestor, descendant]);
    return code === 0;
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    const { stdout } = await this.exec(['merge-base', a, b]);
    const sha = stdout.toString().trim();
    return SHA.test(sha) ? sha : null;
  }

  /** Commits reachable from `include` but not from `exclude`, oldest first. */
  async commitsBetween(exclude: string | null, include: string, limit = 250): Promise<string[]> {
    const range = exclude ? [`${exclude}..${include}`] : [include];
    const output = await this.text(['rev-list', '--reverse', `--max-count=${limit}`, ...range]);
    return output.split('\n').filter(Boolean);
  }

  async countBetween(exclude: string, include: string): Promise<number> {
    return Number((await this.text(['rev-list', '--count', `${exclude}..${include}`])).trim());
  }

  /** Commits reachable from `revision` (newest first), optionally only those touching `path`. */
  async history(
    revision: string,
    options: { path?: string; skip?: number; limit?: number } = {},
  ): Promise<string[]> {
    const args = ['rev-list', `--max-count=${options.limit ?? 30}`, `--skip=${options.skip ?? 0}`, revision];
    if (options.path) args.push('--', options.path);
    return (await this.text(args)).split('\n').filter(Boolean);
  }

  /** Files changed between two commits (or added by a root commit). */
  async changedFiles(from: string | null, to: string): Promise<FileChangeSummary[]> {
    const base = from ?? (await this.text(['hash-object', '-t', 'tree', '--stdin'], { input: '' })).trim();
    const status = await this.text(['diff-tree', '-r', '--no-renames', '--name-status', base, to]);
    const numstat = await this.text(['diff-tree', '-r', '--no-renames', '--numstat', base, to]);
    const counts = new Map<string, [number, number]>();
    for (const line of numstat.split('\n').filter(Boolean)) {
      const [added, removed, file] = line.split('\t') as [string, string, string];
      counts.set(file, [Number(added) || 0, Number(removed) || 0]);
    }
    return status
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [code, filename] = line.split('\t') as [string, string];
        const [additions, deletions] = counts.get(filename) ?? [0, 0];
        const kind = code.startsWith('A') ? 'added' : code.startsWith('D') ? 'removed' : 'modified';
        return { filename, status: kind, additions, deletions };
      });
  }

  /**
   * What a commit changed against its first parent, each file with its unified diff from the first
   * hunk on (as GitHub's `patch`; none for a binary file). Null when `revision` is no commit.
   */
  async commitDiff(revision: string): Promise<CommitDiff | null> {
    const sha = await this.resolveCommit(revision);
    if (!sha) return null;
    const info = await this.commitInfo(sha);
    const parent = info.parents[0] ?? null;
    const base = parent ?? (await this.text(['hash-object', '-t', 'tree', '--stdin'], { input: '' })).trim();
    const files = await this.changedFiles(parent, sha);
    const withPatches = await Promise.all(
      files.map(async (file) => {
        const diff = await this.text([
          'diff-tree',
          '-p',
          '-r',
          '--no-renames',
          '--no-color',
          base,
          sha,
          '--',
          file.filename,
        ]);
        const hunks = diff.indexOf('\n@@');
        return hunks < 0 ? file : { ...file, patch: diff.slice(hunks + 1).replace(/\n$/, '') };
      }),
    );
    return { info, files: withPatches };
  }
}

/** A commit and its changes, each file with its patch. */
export interface CommitDiff {
  readonly info: CommitInfo;
  readonly files: ReadonlyArray<FileChangeSummary & { readonly patch?: string }>;
}

function parseTreeLine(line: string): TreeEntry {
  const tab = line.indexOf('\t');
  const [mode, type, sha, size] = line.slice(0, tab).split(/\s+/) as [
    string,
    TreeEntry['type'],
    string,
    string,
  ];
  return { path: line.slice(tab + 1), mode, type, sha, ...(size !== '-' ? { size: Number(size) } : {}) };
}

/** Reads a directory tree into a `path → content` map, for seeding a repository from files on disk. */
export async function seedFromDirectory(directory: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  async function walk(current: string) {
    for (const name of await readdir(current)) {
      const full = join(current, name);
      if ((await stat(full)).isDirectory()) await walk(full);
      else files[relative(directory, full).split(sep).join('/')] = await readFile(full, 'utf8');
    }
  }
  await walk(directory);
  return files;
}
