/**
 * A local HTTP server that speaks the part of GitHub's REST API Shiplane uses, backed by a real git
 * repository, with GitHub's semantics where they matter for correctness:
 *
 * - a contents PUT with a stale `sha` is 409; a ref update that is not a fast-forward is 422
 *   "Update is not a fast forward"; refs move by compare-and-swap, so a lost update is impossible
 *   on the server side and visible as a conflict on the client side;
 * - bad credentials are 401; GitHub App JWTs are verified and exchanged for installation tokens;
 * - faults can be injected: secondary rate limit (403 + `retry-after`), primary rate limit, 5xx,
 *   401, dropped connections; and hooks can run "another writer" just before a chosen request;
 * - every request is counted (total, content-creating, per route, per status) for benchmarks.
 *
 * It listens on 127.0.0.1 only. The API is also served under `/api/v3` (GitHub Enterprise paths).
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CommitInfo, type GitIdentity, GitStore, type TreeChange, type TreeEntry } from './git-store.js';

export interface GitHubAppOptions {
  readonly appId: string | number;
  readonly installationId: string | number;
  /** The app's private key (PEM); the server verifies JWTs with its public half. */
  readonly privateKey: string;
}

export interface GitHubServerOptions {
  readonly owner: string;
  readonly repo: string;
  /** Serve an existing repository in place (bare, or a working copy). */
  readonly repoDir?: string | undefined;
  /** Files of the first commit of a fresh repository (when no repoDir). */
  readonly seed?: Readonly<Record<string, string>> | undefined;
  /** @default 'main' */
  readonly branch?: string | undefined;
  /** When set, requests must carry this token (or an installation token of `app`). */
  readonly token?: string | undefined;
  readonly app?: GitHubAppOptions | undefined;
  /** Who API commits are by when the request names no author. */
  readonly identity?: GitIdentity | undefined;
  /** @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** @default 0 (any free port) */
  readonly port?: number | undefined;
}

export type FaultKind =
  | 'bad-gateway'
  | 'server-error'
  | 'service-unavailable'
  | 'secondary-rate-limit'
  | 'rate-limit'
  | 'bad-credentials'
  | 'connection-reset';

export interface RequestMatch {
  readonly method?: string;
  /** Matched against the path without the `/api/v3` prefix, e.g. `/repos/o/r/git/refs/heads/main`. */
  readonly path?: RegExp | string;
}

export interface Fault extends RequestMatch {
  readonly kind: FaultKind;
  /** How many matching requests fail. @default 1 */
  readonly times?: number;
  /** Seconds, for rate limits. @default 1 */
  readonly retryAfter?: number;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** The route template, e.g. `PATCH /repos/{owner}/{repo}/git/refs/{ref}`. */
  readonly route: string;
  readonly status: number;
}

export interface RequestStats {
  total: number;
  /** POST, PATCH, PUT and DELETE requests (GitHub's content-creating requests), app token exchanges aside. */
  contentCreating: number;
  /** 409 and 422 answers: stale sha, not a fast-forward. */
  conflicts: number;
  faults: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  readonly requests: RequestRecord[];
}

export interface GitHubServer {
  /** Use as Octokit's `baseUrl` / the config's `apiUrl`. */
  readonly url: string;
  /** The same API under GitHub Enterprise paths: `${url}/api/v3`. */
  readonly enterpriseUrl: string;
  readonly owner: string;
  readonly repo: string;
  readonly branch: string;
  /** The served repository's git directory (`git --git-dir <repoDir> log`). */
  readonly repoDir: string;
  readonly stats: RequestStats;
  resetStats(): void;
  /** Makes matching requests fail; each fault is used up after `times` requests. */
  inject(fault: Fault): void;
  /** Runs `action` before the next `times` matching requests are handled (e.g. another writer commits). */
  before(
    match: RequestMatch,
    action: (request: { method: string; path: string }) => Promise<void> | void,
    times?: number,
  ): void;
  /** The commit a branch points at. */
  head(branch?: string): Promise<string>;
  /** A file's text at a revision (default: the branch head), or null. */
  readFile(path: string, revision?: string): Promise<string | null>;
  /** Commits directly to a branch as another writer would (`content: null` deletes); returns the sha. */
  commitAs(
    files: Readonly<Record<string, string | null>>,
    options?: { message?: string; branch?: string; author?: GitIdentity },
  ): Promise<string>;
  /** Commits on a branch, newest first. */
  log(branch?: string, limit?: number): Promise<CommitInfo[]>;
  /** Runs git in the served repository. */
  git(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

interface Context {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  readonly identity: GitIdentity;
  readonly base: string;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Sent as is (raw media types). */
  readonly raw?: Buffer | string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentation = 'https://docs.github.com/rest',
  ) {
    super(message);
  }
}

const DEFAULT_IDENTITY: GitIdentity = { name: 'GitHub API user', email: 'api-user@users.noreply.github.com' };
const ANOTHER_WRITER: GitIdentity = {
  name: 'Another Writer',
  email: 'another-writer@users.noreply.github.com',
};
const SHA = /^[0-9a-f]{40}$/;

/** Starts the server; close() stops it and removes a repository it created. */
export async function startGitHubServer(options: GitHubServerOptions): Promise<GitHubServer> {
  const branch = options.branch ?? 'main';
  const identity = options.identity ?? DEFAULT_IDENTITY;
  const store = options.repoDir
    ? await GitStore.open(options.repoDir)
    : await GitStore.create({ branch, files: options.seed ?? {}, author: identity });
  const fullName = `${options.owner}/${options.repo}`;
  const appPublicKey = options.app ? createPublicKey(options.app.privateKey) : undefined;
  const installationTokens = new Map<string, number>();
  const faults: (Fault & { remaining: number })[] = [];
  const hooks: (RequestMatch & {
    remaining: number;
    action: (r: { method: string; path: string }) => unknown;
  })[] = [];
  let requestCounter = 0;

  const emptyStats = (): RequestStats => ({
    total: 0,
    contentCreating: 0,
    conflicts: 0,
    faults: 0,
    byRoute: {},
    byStatus: {},
    requests: [],
  });
  const stats = emptyStats();

  // Writes are serialised: each one reads a ref, builds on it and moves it, as GitHub does per repository.
  let writeChain: Promise<unknown> = Promise.resolve();
  const serialise = <T>(work: () => Promise<T>): Promise<T> => {
    const next = writeChain.then(work, work);
    writeChain = next.catch(() => undefined);
    return next;
  };

  const matches = (match: RequestMatch, method: string, path: string) =>
    (!match.method || match.method.toUpperCase() === method) &&
    (!match.path || (typeof match.path === 'string' ? path.includes(match.path) : match.path.test(path)));

  // ---------- response bodies ----------
  const repoUrl = (base: string) => `${base}/repos/${fullName}`;
  const htmlUrl = `https://github.com/${fullName}`;

  const commitObject = (base: string, info: CommitInfo) => ({
    sha: info.sha,
    node_id: nodeId('C', info.sha),
    url: `${repoUrl(base)}/git/commits/${info.sha}`,
    html_url: `${htmlUrl}/commit/${info.sha}`,
    author: info.author,
    committer: info.committer,
    message: info.message,
    tree: { sha: info.tree, url: `${repoUrl(base)}/git/trees/${info.tree}` },
    parents: info.parents.map((sha) => ({
      sha,
      url: `${repoUrl(base)}/git/commits/${sha}`,
      html_url: `${htmlUrl}/commit/${sha}`,
    })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  });

  const repoCommit = async (base: string, info: CommitInfo, withFiles: boolean) => ({
    sha: info.sha,
    node_id: nodeId('C', info.sha),
    commit: {
      author: info.author,
      committer: info.committer,
      message: info.message,
      tree: { sha: info.tree, url: `${repoUrl(base)}/git/trees/${info.tree}` },
      url: `${repoUrl(base)}/git/commits/${info.sha}`,
      comment_count: 0,
      verification: {
        verified: false,
        reason: 'unsigned',
        signature: null,
        payload: null,
        verified_at: null,
      },
    },
    url: `${repoUrl(base)}/commits/${info.sha}`,
    html_url: `${htmlUrl}/commit/${info.sha}`,
    comments_url: `${repoUrl(base)}/commits/${info.sha}/comments`,
    author: null,
    committer: null,
    parents: info.parents.map((sha) => ({
      sha,
      url: `${repoUrl(base)}/commits/${sha}`,
      html_url: `${htmlUrl}/commit/${sha}`,
    })),
    ...(withFiles ? await filesOf(info) : {}),
  });

  const filesOf = async (info: CommitInfo) => {
    const files = await store.changedFiles(info.parents[0] ?? null, info.sha);
    const additions = files.reduce((sum, file) => sum + file.additions, 0);
    const deletions = files.reduce((sum, file) => sum + file.deletions, 0);
    return {
      stats: { total: additions + deletions, additions, deletions },
      files: files.map((file) => ({ ...file, changes: file.additions + file.deletions })),
    };
  };

  const refObject = (base: string, ref: string, sha: string, type = 'commit') => ({
    ref,
    node_id: nodeId('REF', ref),
    url: `${repoUrl(base)}/git/${ref}`,
    object: { sha, type, url: `${repoUrl(base)}/git/${type}s/${sha}` },
  });

  const contentEntry = (base: string, entry: TreeEntry, ref: string) => {
    const name = entry.path.split('/').at(-1) ?? entry.path;
    const type = entry.type === 'tree' ? 'dir' : entry.type === 'commit' ? 'submodule' : 'file';
    const gitUrl = `${repoUrl(base)}/git/${entry.type === 'tree' ? 'trees' : 'blobs'}/${entry.sha}`;
    const url = `${repoUrl(base)}/contents/${entry.path}?ref=${encodeURIComponent(ref)}`;
    return {
      type,
      name,
      path: entry.path,
      sha: entry.sha,
      size: entry.size ?? 0,
      url,
      html_url: `${htmlUrl}/blob/${ref}/${entry.path}`,
      git_url: gitUrl,
      download_url:
        type === 'file' ? `https://raw.githubusercontent.com/${fullName}/${ref}/${entry.path}` : null,
      _links: { self: url, git: gitUrl, html: `${htmlUrl}/blob/${ref}/${entry.path}` },
    };
  };

  // ---------- helpers ----------
  /** GitHub answers an unknown revision on the commits endpoints with 422, not 404. */
  const requireCommit = async (revision: string) => {
    const sha = await store.resolveCommit(revision);
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${revision}`);
    return sha;
  };
  const branchHead = async (name: string) => {
    const sha = await store.refTarget(`refs/heads/${name}`);
    if (!sha) throw new HttpError(404, 'Branch not found');
    return sha;
  };
  const field = <T>(body: unknown, key: string): T | undefined =>
    body && typeof body === 'object' ? ((body as Record<string, unknown>)[key] as T | undefined) : undefined;
  const personFrom = (body: unknown, key: string, fallback: GitIdentity) => {
    const person = field<{ name?: string; email?: string; date?: string }>(body, key);
    return person?.name && person.email
      ? { name: person.name, email: person.email, ...(person.date ? { date: person.date } : {}) }
      : fallback;
  };

  /** Commits a set of file changes on a branch head (contents API, another writer). */
  const commitFiles = async (
    name: string,
    parent: string,
    files: Readonly<Record<string, string | null>>,
    message: string,
    author: GitIdentity,
    committer: GitIdentity,
  ) => {
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
      throw new HttpError(409, `refs/heads/${name} moved while committing; try again`);
    }
    return sha;
  };

  // ---------- routes ----------
  type Handler = (ctx: Context, params: string[]) => Promise<Reply>;
  const routes: { method: string; pattern: RegExp; route: string; handler: Handler }[] = [];
  const route = (method: string, template: string, handler: Handler) => {
    const pattern = new RegExp(
      `^${template
        .replace('/repos/{owner}/{repo}', `/repos/${escapeRegExp(fullName)}`)
        .replace(/\{[a-z_]+\+\}/g, '(.+)')
        .replace(/\{[a-z_]+\}/g, '([^/]+)')}$`,
      'i',
    );
    routes.push({ method, pattern, route: `${method} ${template.replace('+}', '}')}`, handler });
  };

  route('GET', '/repos/{owner}/{repo}', async (ctx) => ({
    status: 200,
    body: {
      id: 1,
      node_id: nodeId('R', fullName),
      name: options.repo,
      full_name: fullName,
      owner: { login: options.owner, type: 'Organization' },
      private: true,
      html_url: htmlUrl,
      url: repoUrl(ctx.base),
      default_branch: branch,
      permissions: { admin: false, maintain: false, push: true, triage: false, pull: true },
    },
  }));

  route('GET', '/repos/{owner}/{repo}/branches/{branch+}', async (ctx, [name]) => {
    const sha = await branchHead(name!);
    const info = await store.commitInfo(sha);
    return {
      status: 200,
      body: {
        name,
        commit: await repoCommit(ctx.base, info, false),
        _links: { self: `${repoUrl(ctx.base)}/branches/${name}`, html: `${htmlUrl}/tree/${name}` },
        protected: false,
      },
    };
  });

  route('GET', '/repos/{owner}/{repo}/git/ref/{ref+}', async (ctx, [ref]) => {
    const sha = await store.refTarget(`refs/${ref}`);
    if (!sha || !/^(heads|tags)\//.test(ref!)) throw new HttpError(404, 'Not Found');
    return {
      status: 200,
      body: refObject(ctx.base, `refs/${ref}`, sha, (await store.objectType(sha)) ?? 'commit'),
    };
  });

  const matchingRefs = async (ctx: Context, prefix: string) => {
    const refs = await store.listRefs(`refs/${prefix.replace(/\/$/, '')}`);
    return refs.map(({ ref, sha }) => refObject(ctx.base, ref, sha));
  };
  route('GET', '/repos/{owner}/{repo}/git/matching-refs/{ref+}', async (ctx, [ref]) => ({
    status: 200,
    body: (await matchingRefs(ctx, ref!)).filter((entry) => entry.ref.startsWith(`refs/${ref}`)),
  }));
  route('GET', '/repos/{owner}/{repo}/git/refs/{ref+}', async (ctx, [ref]) => {
    const exact = await store.refTarget(`refs/${ref}`);
    if (exact && /^(heads|tags)\//.test(ref!))
      return { status: 200, body: refObject(ctx.base, `refs/${ref}`, exact) };
    const list = (await matchingRefs(ctx, ref!)).filter((entry) => entry.ref.startsWith(`refs/${ref}`));
    if (list.length === 0) throw new HttpError(404, 'Not Found');
    return { status: 200, body: list };
  });

  route('POST', '/repos/{owner}/{repo}/git/refs', (ctx) =>
    serialise(async () => {
      const ref = field<string>(ctx.body, 'ref');
      const sha = field<string>(ctx.body, 'sha');
      if (!ref || !/^refs\/(heads|tags)\/.+/.test(ref) || !sha) {
        throw new HttpError(422, 'Reference name must start with refs/ and have at least two slashes.');
      }
      if (!(await store.resolveCommit(sha))) throw new HttpError(422, 'Object does not exist');
      if (!(await store.updateRef(ref, sha, null))) throw new HttpError(422, 'Reference already exists');
      return { status: 201, body: refObject(ctx.base, ref, sha) };
    }),
  );

  route('PATCH', '/repos/{owner}/{repo}/git/refs/{ref+}', (ctx, [ref]) =>
    serialise(async () => {
      const sha = field<string>(ctx.body, 'sha');
      const force = field<boolean>(ctx.body, 'force') === true;
      const name = `refs/${ref}`;
      const current = await store.refTarget(name);
      if (!current) throw new HttpError(422, 'Reference does not exist');
      if (!sha || !SHA.test(sha) || !(await store.resolveCommit(sha))) {
        throw new HttpError(422, 'Object does not exist');
      }
      if (!force && !(await store.isAncestor(current, sha))) {
        throw new HttpError(
          422,
          'Update is not a fast forward',
          'https://docs.github.com/rest/git/refs#update-a-reference',
        );
      }
      if (!(await store.updateRef(name, sha, current)))
        throw new HttpError(422, 'Update is not a fast forward');
      return { status: 200, body: refObject(ctx.base, name, sha) };
    }),
  );

  route('DELETE', '/repos/{owner}/{repo}/git/refs/{ref+}', (_ctx, [ref]) =>
    serialise(async () => {
      const current = await store.refTarget(`refs/${ref}`);
      if (!current) throw new HttpError(422, 'Reference does not exist');
      await store.deleteRef(`refs/${ref}`, current);
      return { status: 204 };
    }),
  );

  route('GET', '/repos/{owner}/{repo}/git/commits/{sha}', async (ctx, [sha]) => {
    if (!SHA.test(sha!) || (await store.objectType(sha!)) !== 'commit') throw new HttpError(404, 'Not Found');
    return { status: 200, body: commitObject(ctx.base, await store.commitInfo(sha!)) };
  });

  route('POST', '/repos/{owner}/{repo}/git/commits', async (ctx) => {
    const message = field<string>(ctx.body, 'message');
    const tree = field<string>(ctx.body, 'tree');
    const parents = field<string[]>(ctx.body, 'parents') ?? [];
    if (typeof message !== 'string' || !tree)
      throw new HttpError(422, 'Invalid request.\n\n"message" and "tree" are required.');
    if ((await store.objectType(tree)) !== 'tree') throw new HttpError(422, 'Tree SHA does not exist');
    for (const parent of parents) {
      if ((await store.objectType(parent)) !== 'commit')
        throw new HttpError(422, 'Parent SHA does not exist or is not a commit object');
    }
    const author = personFrom(ctx.body, 'author', ctx.identity);
    const committer = personFrom(ctx.body, 'committer', author);
    const sha = await store.commitTree({ tree, parents, message, author, committer });
    return { status: 201, body: commitObject(ctx.base, await store.commitInfo(sha)) };
  });

  route('GET', '/repos/{owner}/{repo}/git/trees/{sha+}', async (ctx, [treeish]) => {
    const recursive = ['1', 'true'].includes(ctx.query.get('recursive') ?? '');
    const root = await store.entryAt(treeish!, '').catch(() => null);
    if (!root) throw new HttpError(404, 'Not Found');
    const entries = await store.listTree(root.sha, recursive);
    return {
      status: 200,
      body: {
        sha: root.sha,
        url: `${repoUrl(ctx.base)}/git/trees/${root.sha}`,
        tree: entries.map((entry) => ({
          path: entry.path,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
          ...(entry.size !== undefined ? { size: entry.size } : {}),
          url: `${repoUrl(ctx.base)}/git/${entry.type === 'tree' ? 'trees' : 'blobs'}/${entry.sha}`,
        })),
        truncated: false,
      },
    };
  });

  route('POST', '/repos/{owner}/{repo}/git/trees', async (ctx) => {
    const baseTree = field<string>(ctx.body, 'base_tree');
    const entries = field<unknown[]>(ctx.body, 'tree');
    if (!Array.isArray(entries)) throw new HttpError(422, 'Invalid tree info');
    if (baseTree && (await store.objectType(baseTree)) !== 'tree') {
      // GitHub also accepts a commit here and uses its tree.
      const commit = await store.resolveCommit(baseTree);
      if (!commit) throw new HttpError(422, 'base_tree is not a valid tree oid');
    }
    const changes: TreeChange[] = [];
    for (const raw of entries) {
      const path = field<string>(raw, 'path');
      const mode = field<string>(raw, 'mode') ?? '100644';
      const type = field<string>(raw, 'type') ?? 'blob';
      const sha = field<string | null>(raw, 'sha');
      const content = field<string>(raw, 'content');
      if (!path || path.startsWith('/') || path.split('/').includes('..'))
        throw new HttpError(422, 'Invalid tree info');
      if (type !== 'blob' || !['100644', '100755', '120000'].includes(mode)) {
        throw new HttpError(
          422,
          `This stand-in builds trees from blobs only (got ${type} ${mode} at ${path})`,
        );
      }
      if (content !== undefined && sha !== undefined)
        throw new HttpError(422, 'Only one of sha or content may be given');
      if (content !== undefined)
        changes.push({ path, mode, sha: await store.writeBlob(Buffer.from(content)) });
      else if (sha === null) changes.push({ path, mode, sha: null });
      else if (sha && (await store.objectType(sha)) === 'blob') changes.push({ path, mode, sha });
      else throw new HttpError(422, `GitRPC::BadObjectState: blob ${sha} does not exist`);
    }
    const base = baseTree ? `${baseTree}^{tree}` : null;
    const sha = await store.buildTree(base, changes);
    const listed = await store.listTree(sha, false);
    return {
      status: 201,
      body: {
        sha,
        url: `${repoUrl(ctx.base)}/git/trees/${sha}`,
        tree: listed.map((entry) => ({
          path: entry.path,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
        })),
        truncated: false,
      },
    };
  });

  route('GET', '/repos/{owner}/{repo}/git/blobs/{sha}', async (ctx, [sha]) => {
    if (!SHA.test(sha!) || (await store.objectType(sha!)) !== 'blob') throw new HttpError(404, 'Not Found');
    const content = await store.readBlob(sha!);
    if (/application\/vnd\.github\.raw/.test(String(ctx.headers.accept)))
      return { status: 200, raw: content };
    return {
      status: 200,
      body: {
        sha,
        node_id: nodeId('B', sha!),
        size: content.length,
        url: `${repoUrl(ctx.base)}/git/blobs/${sha}`,
        content: wrapBase64(content),
        encoding: 'base64',
      },
    };
  });

  route('POST', '/repos/{owner}/{repo}/git/blobs', async (ctx) => {
    const content = field<string>(ctx.body, 'content');
    const encoding = field<string>(ctx.body, 'encoding') ?? 'utf-8';
    if (typeof content !== 'string')
      throw new HttpError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
    const bytes = encoding === 'base64' ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8');
    const sha = await store.writeBlob(bytes);
    return { status: 201, body: { sha, url: `${repoUrl(ctx.base)}/git/blobs/${sha}` } };
  });

  route('GET', '/repos/{owner}/{repo}/contents', async (ctx) => readContents(ctx, ''));
  route('GET', '/repos/{owner}/{repo}/contents/{path+}', async (ctx, [path]) => readContents(ctx, path!));

  const readContents = async (ctx: Context, path: string): Promise<Reply> => {
    const ref = ctx.query.get('ref') ?? branch;
    const commit = await store.resolveCommit(ref);
    if (!commit) throw new HttpError(404, `No commit found for the ref ${ref}`);
    const entry = await store.entryAt(commit, path);
    if (!entry) {
      throw new HttpError(
        404,
        'Not Found',
        'https://docs.github.com/rest/repos/contents#get-repository-content',
      );
    }
    if (entry.type === 'tree') {
      const children = await store.listTree(`${commit}:${path}`, false);
      return {
        status: 200,
        body: children.map((child) =>
          contentEntry(ctx.base, { ...child, path: path ? `${path}/${child.path}` : child.path }, ref),
        ),
      };
    }
    const content = await store.readBlob(entry.sha);
    if (/application\/vnd\.github\.raw/.test(String(ctx.headers.accept)))
      return { status: 200, raw: content };
    return {
      status: 200,
      body: {
        ...contentEntry(ctx.base, { ...entry, size: content.length }, ref),
        encoding: 'base64',
        content: wrapBase64(content),
      },
    };
  };

  const writeContents = (ctx: Context, path: string, remove: boolean) =>
    serialise(async (): Promise<Reply> => {
      const message = field<string>(ctx.body, 'message');
      const content = field<string>(ctx.body, 'content');
      const sha = field<string>(ctx.body, 'sha');
      const target = field<string>(ctx.body, 'branch') ?? branch;
      if (typeof message !== 'string')
        throw new HttpError(422, 'Invalid request.\n\n"message" wasn\'t supplied.');
      if (!remove && typeof content !== 'string')
        throw new HttpError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
      const head = await store.refTarget(`refs/heads/${target}`);
      if (!head) throw new HttpError(404, `Branch ${target} not found`);
      const existing = await store.entryAt(head, path);
      if (existing?.type === 'tree') throw new HttpError(422, `${path} is a directory`);
      if (remove && !existing) throw new HttpError(404, 'Not Found');
      if (existing && !sha) throw new HttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
      if (sha && existing?.sha !== sha) {
        throw new HttpError(
          409,
          `${path} does not match ${sha}`,
          'https://docs.github.com/rest/repos/contents#create-or-update-file-contents',
        );
      }
      const author = personFrom(ctx.body, 'author', ctx.identity);
      const committer = personFrom(ctx.body, 'committer', author);
      const data = remove ? null : Buffer.from(content!, 'base64').toString('utf8');
      const commit = await commitFiles(target, head, { [path]: data }, message, author, committer);
      const info = await store.commitInfo(commit);
      const written = remove ? null : await store.entryAt(commit, path);
      return {
        status: remove || existing ? 200 : 201,
        body: {
          content: written ? contentEntry(ctx.base, written, target) : null,
          commit: commitObject(ctx.base, info),
        },
      };
    });
  route('PUT', '/repos/{owner}/{repo}/contents/{path+}', (ctx, [path]) => writeContents(ctx, path!, false));
  route('DELETE', '/repos/{owner}/{repo}/contents/{path+}', (ctx, [path]) => writeContents(ctx, path!, true));

  route('GET', '/repos/{owner}/{repo}/commits', async (ctx) => {
    const revision = ctx.query.get('sha') ?? branch;
    const sha = await requireCommit(revision);
    const perPage = Math.min(Number(ctx.query.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(ctx.query.get('page') ?? 1) || 1, 1);
    const path = ctx.query.get('path') ?? undefined;
    const shas = await store.history(sha, {
      limit: perPage,
      skip: (page - 1) * perPage,
      ...(path ? { path } : {}),
    });
    const body = [];
    for (const commit of shas) body.push(await repoCommit(ctx.base, await store.commitInfo(commit), false));
    return { status: 200, body };
  });

  route('GET', '/repos/{owner}/{repo}/commits/{ref+}', async (ctx, [ref]) => {
    const sha = await requireCommit(ref!);
    if (/application\/vnd\.github(\.v3)?\.sha/.test(String(ctx.headers.accept)))
      return { status: 200, raw: sha };
    return { status: 200, body: await repoCommit(ctx.base, await store.commitInfo(sha), true) };
  });

  route('GET', '/repos/{owner}/{repo}/compare/{basehead+}', async (ctx, [basehead]) => {
    const text = basehead!;
    const split = text.includes('...') ? text.split('...') : text.split('..');
    if (split.length !== 2) throw new HttpError(404, 'Not Found');
    const base = await store.resolveCommit(split[0]!);
    const headSha = await store.resolveCommit(split[1]!);
    if (!base || !headSha) throw new HttpError(404, 'Not Found');
    const mergeBase = await store.mergeBase(base, headSha);
    if (!mergeBase) throw new HttpError(404, `No common ancestor between ${split[0]} and ${split[1]}.`);
    const aheadBy = await store.countBetween(base, headSha);
    const behindBy = await store.countBetween(headSha, base);
    const status =
      aheadBy === 0 && behindBy === 0
        ? 'identical'
        : behindBy === 0
          ? 'ahead'
          : aheadBy === 0
            ? 'behind'
            : 'diverged';
    const perPage = Math.min(Number(ctx.query.get('per_page') ?? 250) || 250, 250);
    const commits = [];
    for (const sha of await store.commitsBetween(base, headSha, perPage)) {
      commits.push(await repoCommit(ctx.base, await store.commitInfo(sha), false));
    }
    const files = await store.changedFiles(mergeBase, headSha);
    return {
      status: 200,
      body: {
        url: `${repoUrl(ctx.base)}/compare/${text}`,
        html_url: `${htmlUrl}/compare/${text}`,
        base_commit: await repoCommit(ctx.base, await store.commitInfo(base), false),
        merge_base_commit: await repoCommit(ctx.base, await store.commitInfo(mergeBase), false),
        status,
        ahead_by: aheadBy,
        behind_by: behindBy,
        total_commits: aheadBy,
        commits,
        files: files.map((file) => ({ ...file, changes: file.additions + file.deletions })),
      },
    };
  });

  route('POST', '/app/installations/{installation_id}/access_tokens', async (_ctx, [installation]) => {
    if (!options.app || String(options.app.installationId) !== installation)
      throw new HttpError(404, 'Not Found');
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = Date.now() + 3_600_000;
    installationTokens.set(token, expiresAt);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { contents: 'write', metadata: 'read' },
        repository_selection: 'selected',
      },
    };
  });

  // ---------- auth ----------
  const authenticate = (path: string, headers: IncomingMessage['headers']): GitIdentity => {
    if (!options.token && !options.app) return identity;
    const header = headers.authorization ?? '';
    const credential = header.replace(/^(token|bearer)\s+/i, '').trim();
    if (/^\/app(\/|$)/.test(path)) {
      if (!options.app || !appPublicKey || !verifyAppJwt(credential, options.app.appId, appPublicKey)) {
        throw new HttpError(401, 'A JSON web token could not be decoded');
      }
      return identity;
    }
    if (options.token && credential === options.token) return identity;
    const expiry = installationTokens.get(credential);
    if (expiry !== undefined && expiry > Date.now())
      return { name: 'shiplane[bot]', email: 'shiplane[bot]@users.noreply.github.com' };
    throw new HttpError(401, 'Bad credentials', 'https://docs.github.com/rest');
  };

  // ---------- the server ----------
  const record = (method: string, path: string, routeName: string, status: number) => {
    stats.byRoute[routeName] = (stats.byRoute[routeName] ?? 0) + 1;
    stats.byStatus[String(status)] = (stats.byStatus[String(status)] ?? 0) + 1;
    if (status === 409 || status === 422) stats.conflicts++;
    stats.requests.push({ method, path, route: routeName, status });
  };

  const server = createServer(async (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path =
      safeDecode(url.pathname)
        .replace(/^\/api\/v3(?=\/)/, '')
        .replace(/\/+$/, '') || '/';
    const base = `${serverUrl}${url.pathname.startsWith('/api/v3/') ? '/api/v3' : ''}`;
    const matched = routes.find((candidate) => candidate.method === method && candidate.pattern.test(path));
    const routeName = matched?.route ?? `${method} ${path}`;
    stats.total++;
    if (method !== 'GET' && method !== 'HEAD' && !/^\/app\/installations\/[^/]+\/access_tokens$/.test(path)) {
      stats.contentCreating++;
    }
    const requestId = `${(++requestCounter).toString(16).toUpperCase()}:${randomBytes(4).toString('hex').toUpperCase()}`;
    const common = {
      'x-github-request-id': requestId,
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
    };
    const send = (reply: Reply) => {
      record(method, path, routeName, reply.status);
      const headers: Record<string, string> = { ...common, ...reply.headers };
      if (reply.raw !== undefined) {
        res.writeHead(reply.status, { ...headers, 'content-type': 'application/octet-stream' });
        res.end(reply.raw);
      } else if (reply.body === undefined) {
        res.writeHead(reply.status, headers);
        res.end();
      } else {
        res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(reply.body));
      }
    };
    try {
      const raw = await readBody(req);
      const fault = faults.find((candidate) => candidate.remaining > 0 && matches(candidate, method, path));
      if (fault) {
        fault.remaining--;
        stats.faults++;
        if (fault.kind === 'connection-reset') {
          record(method, path, routeName, 0);
          req.socket.destroy();
          return;
        }
        send(faultReply(fault, common));
        return;
      }
      const who = authenticate(path, req.headers);
      for (const hook of hooks) {
        if (hook.remaining > 0 && matches(hook, method, path)) {
          hook.remaining--;
          await hook.action({ method, path });
        }
      }
      if (!matched) throw new HttpError(404, 'Not Found');
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new HttpError(400, 'Problems parsing JSON');
        }
      }
      const params = matched.pattern.exec(path)!.slice(1);
      const ctx: Context = {
        method,
        path,
        query: url.searchParams,
        headers: req.headers,
        body,
        identity: who,
        base,
      };
      send(await matched.handler(ctx, params));
    } catch (error) {
      if (error instanceof HttpError) {
        send({
          status: error.status,
          body: {
            message: error.message,
            documentation_url: error.documentation,
            status: String(error.status),
          },
        });
      } else {
        send({ status: 500, body: { message: `stand-in error: ${(error as Error).message}` } });
      }
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const serverUrl = `http://${address.address}:${address.port}`;

  const api: GitHubServer = {
    url: serverUrl,
    enterpriseUrl: `${serverUrl}/api/v3`,
    owner: options.owner,
    repo: options.repo,
    branch,
    repoDir: store.gitDir,
    stats,
    resetStats() {
      const { requests, ...counters } = emptyStats();
      Object.assign(stats, counters);
      stats.requests.length = 0;
    },
    inject(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    before(match, action, times = 1) {
      hooks.push({ ...match, action, remaining: times });
    },
    async head(name = branch) {
      const sha = await store.refTarget(`refs/heads/${name}`);
      if (!sha) throw new Error(`branch ${name} does not exist`);
      return sha;
    },
    async readFile(path, revision = branch) {
      const commit = await store.resolveCommit(revision);
      if (!commit) return null;
      const entry = await store.entryAt(commit, path);
      return entry?.type === 'blob' ? (await store.readBlob(entry.sha)).toString('utf8') : null;
    },
    commitAs(files, commitOptions = {}) {
      const name = commitOptions.branch ?? branch;
      const author = commitOptions.author ?? ANOTHER_WRITER;
      return serialise(async () => {
        const head = await store.refTarget(`refs/heads/${name}`);
        if (!head) throw new Error(`branch ${name} does not exist`);
        return commitFiles(
          name,
          head,
          files,
          commitOptions.message ?? 'Edit by another writer\n',
          author,
          author,
        );
      });
    },
    async log(name = branch, limit = 50) {
      const shas = await store.history(`refs/heads/${name}`, { limit });
      return Promise.all(shas.map((sha) => store.commitInfo(sha)));
    },
    async git(...args) {
      return (await store.run(args)).toString();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await writeChain;
      await store.dispose();
    },
  };
  return api;
}

function faultReply(fault: Fault, common: Record<string, string>): Reply {
  const retryAfter = String(fault.retryAfter ?? 1);
  switch (fault.kind) {
    case 'bad-gateway':
      return { status: 502, raw: '<html><body><h1>502 Bad Gateway</h1></body></html>', headers: {} };
    case 'service-unavailable':
      return { status: 503, body: { message: 'Service Unavailable' } };
    case 'server-error':
      return { status: 500, body: { message: 'Server Error' } };
    case 'secondary-rate-limit':
      return {
        status: 403,
        headers: { 'retry-after': retryAfter },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ' +
            common['x-github-request-id'],
          documentation_url:
            'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          status: '403',
        },
      };
    case 'rate-limit':
      return {
        status: 403,
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + Number(retryAfter)),
        },
        body: {
          message: 'API rate limit exceeded for installation ID 1.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
          status: '403',
        },
      };
    case 'bad-credentials':
      return {
        status: 401,
        body: {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
          status: '401',
        },
      };
    case 'connection-reset':
      return { status: 0 };
  }
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Verifies an app JWT (RS256, issuer = app id, not expired) as GitHub does. */
function verifyAppJwt(
  token: string,
  appId: string | number,
  key: ReturnType<typeof createPublicKey>,
): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
      iss?: unknown;
      exp?: number;
      iat?: number;
    };
    if (head.alg !== 'RS256') return false;
    const valid = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      key,
      Buffer.from(signature, 'base64url'),
    );
    const now = Math.floor(Date.now() / 1000);
    return (
      valid &&
      String(claims.iss) === String(appId) &&
      typeof claims.exp === 'number' &&
      claims.exp > now &&
      claims.exp - (claims.iat ?? now) <= 600 + 60
    );
  } catch {
    return false;
  }
}

/** Base64 wrapped at 60 characters, as GitHub returns file content. */
function wrapBase64(content: Buffer): string {
  return `${(content.toString('base64').match(/.{1,60}/g) ?? []).join('\n')}\n`;
}

function nodeId(kind: string, value: string): string {
  return Buffer.from(`${kind}:${value}`).toString('base64url');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
