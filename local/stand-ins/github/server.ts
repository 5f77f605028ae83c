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
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  dropConnection,
  FaultPlan,
  HttpError,
  parseJson,
  pathOf,
  type RequestMatch,
  Router,
  readBody,
  send,
  sendJson,
  startHttpServer,
  urlOf,
} from '../../http/index.js';
import { Credentials, type GitHubAppOptions } from './auth.js';
import type { Reply, RequestContext, RouteHandler } from './context.js';
import { errorBody, GitHubApiError } from './errors.js';
import { type Fault, faultReply } from './faults.js';
import { type CommitDiff, type CommitInfo, type GitIdentity, GitStore } from './git-store.js';
import type { GitHubApp } from './github-app.js';
import { identityOf, loginOf, type MergeMethod, type PullRecord } from './pull-records.js';
import { PullRequestStore } from './pull-request-store.js';
import { addAppRoutes } from './routes/app.js';
import { addCommitRoutes } from './routes/commits.js';
import { addContentsRoutes } from './routes/contents.js';
import { addGitObjectRoutes } from './routes/git-objects.js';
import { addIssueRoutes } from './routes/issues.js';
import { addPullRoutes } from './routes/pulls.js';
import { addRefRoutes } from './routes/refs.js';
import { addRepositoryRoutes } from './routes/repository.js';
import { ServedRepository } from './served-repository.js';
import { countAnswer, countArrival, emptyStats, type RequestStats, resetStats } from './stats.js';

export type { GitHubAppOptions } from './auth.js';
export type { Fault, FaultKind } from './faults.js';
export type { CommentRecord, MergeMethod, PullRecord } from './pull-records.js';
export type { RequestRecord, RequestStats } from './stats.js';
export type { RequestMatch };

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
  /** The app installed on this owner, or a GitHubApp shared with other stand-ins (installed on several owners). */
  readonly app?: GitHubAppOptions | GitHubApp | undefined;
  /** Who API commits are by when the request names no author. */
  readonly identity?: GitIdentity | undefined;
  /** Logins reviews may be requested from; a request naming anyone else is 422. @default none */
  readonly collaborators?: readonly string[] | undefined;
  /** @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** @default 0 (any free port) */
  readonly port?: number | undefined;
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
  /** A commit (full or abbreviated sha, or a ref) with each changed file's patch; null when none. */
  commit(revision: string): Promise<CommitDiff | null>;
  /**
   * A person merges pull request `number` on its page (`method` default `merge`), under the same rules
   * as the API (a conflict or held checks refuse it); returns the commit the base now points at.
   */
  mergePullRequest(number: number, options: { by: string; method?: MergeMethod }): Promise<string>;
  /** A person closes pull request `number` without merging it. */
  closePullRequest(number: number, options: { by: string }): Promise<void>;
  /**
   * Required status check `context` stays pending: open pull requests are `mergeable_state: blocked`
   * and merging them is 405 until the returned function releases it.
   */
  holdChecks(context?: string): () => void;
  /**
   * The next `reads` reads of an open pull request answer `mergeable: null`, `mergeable_state:
   * unknown`, as GitHub does while it computes mergeability after a push.
   */
  mergeabilityPending(reads?: number): void;
  /** Another writer commits to the pull request's base an edit that conflicts with every file it changes. */
  pushConflict(number: number): Promise<string>;
  /** Pull request `number` as the stand-in holds it (head and base read now), for assertions. */
  pullRequest(number: number): Promise<Readonly<PullRecord>>;
  close(): Promise<void>;
}

const DEFAULT_IDENTITY: GitIdentity = { name: 'GitHub API user', email: 'api-user@users.noreply.github.com' };
const ANOTHER_WRITER: GitIdentity = {
  name: 'Another Writer',
  email: 'another-writer@users.noreply.github.com',
};
/** GitHub takes blobs up to 100 MB; a contents or blob request carries one, base64 encoded. */
const BODY_LIMIT = 140 * 1024 * 1024;
/** Paths are matched without the GitHub Enterprise prefix. */
const ENTERPRISE_PREFIX = /^\/api\/v3(?=\/)/;

type Hook = (request: { method: string; path: string }) => Promise<void> | void;

/** Starts the server; close() stops it and removes a repository it created. */
export async function startGitHubServer(options: GitHubServerOptions): Promise<GitHubServer> {
  const branch = options.branch ?? 'main';
  const identity = options.identity ?? DEFAULT_IDENTITY;
  const store = options.repoDir
    ? await GitStore.open(options.repoDir)
    : await GitStore.create({ branch, files: options.seed ?? {}, author: identity });
  const repo = new ServedRepository(store, options.owner, options.repo, branch);
  const credentials = new Credentials({
    token: options.token,
    app: options.app,
    owner: options.owner,
    identity,
  });
  const faults = new FaultPlan<Fault>();
  const hooks = new FaultPlan<Hook>();
  const stats = emptyStats();
  const pulls = new PullRequestStore(repo, new Set(options.collaborators ?? []));
  const router = routesFor(repo, credentials, pulls);
  let requestCounter = 0;

  /** The route a request takes: a template of the served repository, or none (another repository too). */
  const routeOf = (method: string, path: string) => {
    const match = router.match(method, path);
    if (match.kind !== 'found') return undefined;
    const { owner, repo: name } = match.params;
    if (owner !== undefined && owner.toLowerCase() !== repo.owner.toLowerCase()) return undefined;
    if (name !== undefined && name.toLowerCase() !== repo.repo.toLowerCase()) return undefined;
    return match;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = urlOf(req);
    const path = pathOf(url).replace(ENTERPRISE_PREFIX, '').replace(/\/+$/, '') || '/';
    const base = `${http.url}${url.pathname.startsWith('/api/v3/') ? '/api/v3' : ''}`;
    const matched = routeOf(method, path);
    const routeName = matched
      ? `${method} ${matched.route.template.replace('+}', '}')}`
      : `${method} ${path}`;
    countArrival(stats, method, path);
    const requestId = `${(++requestCounter).toString(16).toUpperCase()}:${randomBytes(4).toString('hex').toUpperCase()}`;
    const common = commonHeaders(requestId);
    const answer = (reply: Reply) => {
      countAnswer(stats, { method, path, route: routeName, status: reply.status });
      writeReply(res, reply, common);
    };
    try {
      const raw = await readBody(req, BODY_LIMIT);
      const fault = faults.take(method, path);
      if (fault) {
        stats.faults++;
        if (fault.kind === 'connection-reset') {
          countAnswer(stats, { method, path, route: routeName, status: 0 });
          dropConnection(req);
          return;
        }
        answer(faultReply(fault, requestId));
        return;
      }
      const who = credentials.authenticate(path, req.headers);
      for (const hook of hooks.takeAll(method, path)) await hook({ method, path });
      if (!matched) throw new GitHubApiError(404, 'Not Found');
      const ctx: RequestContext = {
        method,
        path,
        query: url.searchParams,
        headers: req.headers,
        body: parseJson(raw, 'Problems parsing JSON'),
        identity: who,
        base,
      };
      answer(await matched.route.handler(ctx, matched.params));
    } catch (error) {
      if (error instanceof HttpError) answer({ status: error.status, body: errorBody(error) });
      else answer({ status: 500, body: { message: `stand-in error: ${(error as Error).message}` } });
    }
  };

  const http = await startHttpServer({ handle, host: options.host, port: options.port });

  return {
    url: http.url,
    enterpriseUrl: `${http.url}/api/v3`,
    owner: options.owner,
    repo: options.repo,
    branch,
    repoDir: store.gitDir,
    stats,
    resetStats: () => resetStats(stats),
    inject(fault) {
      faults.inject(fault, { method: fault.method, path: fault.path, times: fault.times ?? 1 });
    },
    before(match, action, times = 1) {
      hooks.inject(action, { method: match.method, path: match.path, times });
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
      return repo.serialise(async () => {
        const head = await store.refTarget(`refs/heads/${name}`);
        if (!head) throw new Error(`branch ${name} does not exist`);
        return repo.commitFiles(
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
    commit: (revision) => store.commitDiff(revision),
    async mergePullRequest(number, { by, method = 'merge' }) {
      return pulls.merge(number, { method, by: identityOf(by) });
    },
    async closePullRequest(number, { by }) {
      await pulls.close(number, by);
    },
    holdChecks: (context = 'ci') => pulls.holdChecks(context),
    mergeabilityPending: (reads = 1) => pulls.computeLater(reads),
    pushConflict: (number) => pulls.pushConflict(number, ANOTHER_WRITER),
    async pullRequest(number) {
      const pull = await pulls.find(number);
      return { ...pull, reviewers: [...pull.reviewers], comments: [...pull.comments] };
    },
    async close() {
      await http.close();
      await repo.writesSettled();
      await store.dispose();
    },
  };
}

/** Every route of the API, in GitHub's URL templates (the stats count by them). */
function routesFor(
  repo: ServedRepository,
  credentials: Credentials,
  pulls: PullRequestStore,
): Router<RouteHandler> {
  // GitHub's paths are case-insensitive (`/repos/ITDO-ERP/…` is the same repository).
  const router = new Router<RouteHandler>({ caseInsensitive: true });
  const route = (method: string, template: string, handler: RouteHandler) => {
    router.add(method, template, handler);
  };
  addRepositoryRoutes(route, repo);
  addRefRoutes(route, repo, (branch, by) => pulls.headDeleted(branch, loginOf(by)));
  addGitObjectRoutes(route, repo);
  addContentsRoutes(route, repo);
  addCommitRoutes(route, repo);
  addPullRoutes(route, pulls);
  addIssueRoutes(route, pulls);
  addAppRoutes(route, credentials, repo);
  return router;
}

/** Headers GitHub puts on every answer. */
function commonHeaders(requestId: string): Record<string, string> {
  return {
    'x-github-request-id': requestId,
    'x-github-api-version-selected': '2022-11-28',
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    'x-ratelimit-resource': 'core',
  };
}

function writeReply(res: ServerResponse, reply: Reply, common: Record<string, string>): void {
  const headers = { ...common, ...reply.headers };
  if (reply.raw !== undefined) {
    send(res, reply.status, reply.raw, { ...headers, 'content-type': 'application/octet-stream' });
  } else if (reply.body === undefined) {
    send(res, reply.status, undefined, headers);
  } else {
    sendJson(res, reply.status, reply.body, headers);
  }
}
