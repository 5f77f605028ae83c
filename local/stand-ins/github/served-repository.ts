/**
 * The one repository a GitHub stand-in serves: its git store, its names, the write lock, and the JSON
 * shapes GitHub gives its objects (commits, refs, contents entries) with the URLs GitHub would put in
 * them. Route modules work through this.
 */
import { GitHubApiError } from './errors.js';
import type { CommitInfo, GitIdentity, GitStore, TreeChange, TreeEntry } from './git-store.js';

export class ServedRepository {
  readonly fullName: string;
  readonly htmlUrl: string;
  // Writes are serialised: each one reads a ref, builds on it and moves it, as GitHub does per repository.
  private writeChain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: GitStore,
    readonly owner: string,
    readonly repo: string,
    /** The default branch. */
    readonly branch: string,
  ) {
    this.fullName = `${owner}/${repo}`;
    this.htmlUrl = `https://github.com/${this.fullName}`;
  }

  /** Runs `work` after every write before it (whether that one failed or not). */
  serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.writeChain.then(work, work);
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /** Resolves once the writes queued so far are done. */
  async writesSettled(): Promise<void> {
    await this.writeChain;
  }

  /** GitHub answers an unknown revision on the commits endpoints with 422, not 404. */
  async requireCommit(revision: string): Promise<string> {
    const sha = await this.store.resolveCommit(revision);
    if (!sha) throw new GitHubApiError(422, `No commit found for SHA: ${revision}`);
    return sha;
  }

  async branchHead(name: string): Promise<string> {
    const sha = await this.store.refTarget(`refs/heads/${name}`);
    if (!sha) throw new GitHubApiError(404, 'Branch not found');
    return sha;
  }

  /**
   * Commits file changes (`null` deletes) on `parent` and moves the branch from `parent` to the new
   * commit — a 409 when someone moved it in between.
   */
  async commitFiles(
    name: string,
    parent: string,
    files: Readonly<Record<string, string | null>>,
    message: string,
    author: GitIdentity,
    committer: GitIdentity,
  ): Promise<string> {
    const { store } = this;
    const info = await store.commitInfo(parent);
    const changes: TreeChange[] = [];
    for (const [path, content] of Object.entries(files)) {
      changes.push({
        path,
        mode: '100644',
        sha: content === null ? null : await store.writeBlob(Buffer.from(content)),
      });
    }
    const tree = await store.buildTree(info.tree, changes);
    const sha = await store.commitTree({ tree, parents: [parent], message, author, committer });
    if (!(await store.updateRef(`refs/heads/${name}`, sha, parent))) {
      throw new GitHubApiError(409, `refs/heads/${name} moved while committing; try again`);
    }
    return sha;
  }

  // ---------- GitHub's JSON for its objects ----------

  /** `https://api…/repos/{owner}/{repo}` under the API root the request used. */
  apiUrl(base: string): string {
    return `${base}/repos/${this.fullName}`;
  }

  /** A commit as the Git Data API shows it (`/git/commits/{sha}`). */
  gitCommit(base: string, info: CommitInfo) {
    const api = this.apiUrl(base);
    return {
      sha: info.sha,
      node_id: nodeId('C', info.sha),
      url: `${api}/git/commits/${info.sha}`,
      html_url: `${this.htmlUrl}/commit/${info.sha}`,
      author: info.author,
      committer: info.committer,
      message: info.message,
      tree: { sha: info.tree, url: `${api}/git/trees/${info.tree}` },
      parents: info.parents.map((sha) => ({
        sha,
        url: `${api}/git/commits/${sha}`,
        html_url: `${this.htmlUrl}/commit/${sha}`,
      })),
      verification: UNSIGNED,
    };
  }

  /** A commit as the commits API shows it (`/commits/{ref}`), with its files when asked. */
  async repoCommit(base: string, info: CommitInfo, withFiles: boolean) {
    const api = this.apiUrl(base);
    return {
      sha: info.sha,
      node_id: nodeId('C', info.sha),
      commit: {
        author: info.author,
        committer: info.committer,
        message: info.message,
        tree: { sha: info.tree, url: `${api}/git/trees/${info.tree}` },
        url: `${api}/git/commits/${info.sha}`,
        comment_count: 0,
        verification: UNSIGNED,
      },
      url: `${api}/commits/${info.sha}`,
      html_url: `${this.htmlUrl}/commit/${info.sha}`,
      comments_url: `${api}/commits/${info.sha}/comments`,
      author: null,
      committer: null,
      parents: info.parents.map((sha) => ({
        sha,
        url: `${api}/commits/${sha}`,
        html_url: `${this.htmlUrl}/commit/${sha}`,
      })),
      ...(withFiles ? await this.filesOf(info) : {}),
    };
  }

  /** The commit's changed files and their line counts, against its first parent. */
  private async filesOf(info: CommitInfo) {
    const files = await this.store.changedFiles(info.parents[0] ?? null, info.sha);
    const additions = files.reduce((sum, file) => sum + file.additions, 0);
    const deletions = files.reduce((sum, file) => sum + file.deletions, 0);
    return {
      stats: { total: additions + deletions, additions, deletions },
      files: files.map((file) => ({ ...file, changes: file.additions + file.deletions })),
    };
  }

  ref(base: string, ref: string, sha: string, type = 'commit') {
    const api = this.apiUrl(base);
    return {
      ref,
      node_id: nodeId('REF', ref),
      url: `${api}/git/${ref}`,
      object: { sha, type, url: `${api}/git/${type}s/${sha}` },
    };
  }

  /** An entry of the contents API: a file, a directory or a submodule at `ref`. */
  contentEntry(base: string, entry: TreeEntry, ref: string) {
    const name = entry.path.split('/').at(-1) ?? entry.path;
    const type = entry.type === 'tree' ? 'dir' : entry.type === 'commit' ? 'submodule' : 'file';
    const gitUrl = `${this.apiUrl(base)}/git/${entry.type === 'tree' ? 'trees' : 'blobs'}/${entry.sha}`;
    const url = `${this.apiUrl(base)}/contents/${entry.path}?ref=${encodeURIComponent(ref)}`;
    return {
      type,
      name,
      path: entry.path,
      sha: entry.sha,
      size: entry.size ?? 0,
      url,
      html_url: `${this.htmlUrl}/blob/${ref}/${entry.path}`,
      git_url: gitUrl,
      download_url:
        type === 'file' ? `https://raw.githubusercontent.com/${this.fullName}/${ref}/${entry.path}` : null,
      _links: { self: url, git: gitUrl, html: `${this.htmlUrl}/blob/${ref}/${entry.path}` },
    };
  }
}

const UNSIGNED = { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null };

export function nodeId(kind: string, value: string): string {
  return Buffer.from(`${kind}:${value}`).toString('base64url');
}

/** Base64 wrapped at 60 characters, as GitHub returns file content. */
export function wrapBase64(content: Buffer): string {
  return `${(content.toString('base64').match(/.{1,60}/g) ?? []).join('\n')}\n`;
}
