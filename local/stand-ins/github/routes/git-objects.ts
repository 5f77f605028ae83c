/** The Git Data API's objects: commits, trees and blobs, read and created. */
import { type AddRoute, field, personFrom, SHA } from '../context.js';
import { GitHubApiError } from '../errors.js';
import type { TreeChange } from '../git-store.js';
import { nodeId, type ServedRepository, wrapBase64 } from '../served-repository.js';

const RAW = /application\/vnd\.github\.raw/;

export function addGitObjectRoutes(route: AddRoute, repo: ServedRepository): void {
  const { store } = repo;

  route('GET', '/repos/{owner}/{repo}/git/commits/{sha}', async (ctx, { sha }) => {
    if (!SHA.test(sha!) || (await store.objectType(sha!)) !== 'commit')
      throw new GitHubApiError(404, 'Not Found');
    return { status: 200, body: repo.gitCommit(ctx.base, await store.commitInfo(sha!)) };
  });

  route('POST', '/repos/{owner}/{repo}/git/commits', async (ctx) => {
    const message = field<string>(ctx.body, 'message');
    const tree = field<string>(ctx.body, 'tree');
    const parents = field<string[]>(ctx.body, 'parents') ?? [];
    if (typeof message !== 'string' || !tree)
      throw new GitHubApiError(422, 'Invalid request.\n\n"message" and "tree" are required.');
    if ((await store.objectType(tree)) !== 'tree') throw new GitHubApiError(422, 'Tree SHA does not exist');
    for (const parent of parents) {
      if ((await store.objectType(parent)) !== 'commit')
        throw new GitHubApiError(422, 'Parent SHA does not exist or is not a commit object');
    }
    const author = personFrom(ctx.body, 'author', ctx.identity);
    const committer = personFrom(ctx.body, 'committer', author);
    const sha = await store.commitTree({ tree, parents, message, author, committer });
    return { status: 201, body: repo.gitCommit(ctx.base, await store.commitInfo(sha)) };
  });

  route('GET', '/repos/{owner}/{repo}/git/trees/{sha+}', async (ctx, { sha: treeish }) => {
    const recursive = ['1', 'true'].includes(ctx.query.get('recursive') ?? '');
    const root = await store.entryAt(treeish!, '').catch(() => null);
    if (!root) throw new GitHubApiError(404, 'Not Found');
    const entries = await store.listTree(root.sha, recursive);
    const api = repo.apiUrl(ctx.base);
    return {
      status: 200,
      body: {
        sha: root.sha,
        url: `${api}/git/trees/${root.sha}`,
        tree: entries.map((entry) => ({
          path: entry.path,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
          ...(entry.size !== undefined ? { size: entry.size } : {}),
          url: `${api}/git/${entry.type === 'tree' ? 'trees' : 'blobs'}/${entry.sha}`,
        })),
        truncated: false,
      },
    };
  });

  route('POST', '/repos/{owner}/{repo}/git/trees', async (ctx) => {
    const baseTree = field<string>(ctx.body, 'base_tree');
    const entries = field<unknown[]>(ctx.body, 'tree');
    if (!Array.isArray(entries)) throw new GitHubApiError(422, 'Invalid tree info');
    if (baseTree && (await store.objectType(baseTree)) !== 'tree') {
      // GitHub also accepts a commit here and uses its tree.
      const commit = await store.resolveCommit(baseTree);
      if (!commit) throw new GitHubApiError(422, 'base_tree is not a valid tree oid');
    }
    const changes: TreeChange[] = [];
    for (const raw of entries) changes.push(await treeChangeOf(raw));
    const sha = await store.buildTree(baseTree ? `${baseTree}^{tree}` : null, changes);
    const listed = await store.listTree(sha, false);
    return {
      status: 201,
      body: {
        sha,
        url: `${repo.apiUrl(ctx.base)}/git/trees/${sha}`,
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

  /** One entry of a tree request: a blob by sha, new content, or `sha: null` to delete the path. */
  const treeChangeOf = async (raw: unknown): Promise<TreeChange> => {
    const path = field<string>(raw, 'path');
    const mode = field<string>(raw, 'mode') ?? '100644';
    const type = field<string>(raw, 'type') ?? 'blob';
    const sha = field<string | null>(raw, 'sha');
    const content = field<string>(raw, 'content');
    if (!path || path.startsWith('/') || path.split('/').includes('..'))
      throw new GitHubApiError(422, 'Invalid tree info');
    if (type !== 'blob' || !['100644', '100755', '120000'].includes(mode)) {
      throw new GitHubApiError(
        422,
        `This stand-in builds trees from blobs only (got ${type} ${mode} at ${path})`,
      );
    }
    if (content !== undefined && sha !== undefined)
      throw new GitHubApiError(422, 'Only one of sha or content may be given');
    if (content !== undefined) return { path, mode, sha: await store.writeBlob(Buffer.from(content)) };
    if (sha === null) return { path, mode, sha: null };
    if (sha && (await store.objectType(sha)) === 'blob') return { path, mode, sha };
    throw new GitHubApiError(422, `GitRPC::BadObjectState: blob ${sha} does not exist`);
  };

  route('GET', '/repos/{owner}/{repo}/git/blobs/{sha}', async (ctx, { sha }) => {
    if (!SHA.test(sha!) || (await store.objectType(sha!)) !== 'blob')
      throw new GitHubApiError(404, 'Not Found');
    const content = await store.readBlob(sha!);
    if (RAW.test(String(ctx.headers.accept))) return { status: 200, raw: content };
    return {
      status: 200,
      body: {
        sha,
        node_id: nodeId('B', sha!),
        size: content.length,
        url: `${repo.apiUrl(ctx.base)}/git/blobs/${sha}`,
        content: wrapBase64(content),
        encoding: 'base64',
      },
    };
  });

  route('POST', '/repos/{owner}/{repo}/git/blobs', async (ctx) => {
    const content = field<string>(ctx.body, 'content');
    const encoding = field<string>(ctx.body, 'encoding') ?? 'utf-8';
    if (typeof content !== 'string')
      throw new GitHubApiError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
    const bytes = encoding === 'base64' ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8');
    const sha = await store.writeBlob(bytes);
    return { status: 201, body: { sha, url: `${repo.apiUrl(ctx.base)}/git/blobs/${sha}` } };
  });
}
