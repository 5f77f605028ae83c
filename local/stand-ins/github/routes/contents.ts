/**
 * The contents API: read a file or a directory at a ref, and create, update or delete one file with
 * a commit. A write names the blob sha it replaces; a stale one is 409, as on GitHub.
 */
import { type AddRoute, field, personFrom, type Reply, type RequestContext } from '../context.js';
import { GitHubApiError } from '../errors.js';
import { type ServedRepository, wrapBase64 } from '../served-repository.js';

const CONTENTS_DOCS = 'https://docs.github.com/rest/repos/contents';

export function addContentsRoutes(route: AddRoute, repo: ServedRepository): void {
  const { store } = repo;

  const readContents = async (ctx: RequestContext, path: string): Promise<Reply> => {
    const ref = ctx.query.get('ref') ?? repo.branch;
    const commit = await store.resolveCommit(ref);
    if (!commit) throw new GitHubApiError(404, `No commit found for the ref ${ref}`);
    const entry = await store.entryAt(commit, path);
    if (!entry) throw new GitHubApiError(404, 'Not Found', `${CONTENTS_DOCS}#get-repository-content`);
    if (entry.type === 'tree') {
      const children = await store.listTree(`${commit}:${path}`, false);
      return {
        status: 200,
        body: children.map((child) =>
          repo.contentEntry(ctx.base, { ...child, path: path ? `${path}/${child.path}` : child.path }, ref),
        ),
      };
    }
    const content = await store.readBlob(entry.sha);
    if (/application\/vnd\.github\.raw/.test(String(ctx.headers.accept)))
      return { status: 200, raw: content };
    return {
      status: 200,
      body: {
        ...repo.contentEntry(ctx.base, { ...entry, size: content.length }, ref),
        encoding: 'base64',
        content: wrapBase64(content),
      },
    };
  };

  const writeContents = (ctx: RequestContext, path: string, remove: boolean) =>
    repo.serialise(async (): Promise<Reply> => {
      const message = field<string>(ctx.body, 'message');
      const content = field<string>(ctx.body, 'content');
      const sha = field<string>(ctx.body, 'sha');
      const target = field<string>(ctx.body, 'branch') ?? repo.branch;
      if (typeof message !== 'string')
        throw new GitHubApiError(422, 'Invalid request.\n\n"message" wasn\'t supplied.');
      if (!remove && typeof content !== 'string')
        throw new GitHubApiError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
      const head = await store.refTarget(`refs/heads/${target}`);
      if (!head) throw new GitHubApiError(404, `Branch ${target} not found`);
      const existing = await store.entryAt(head, path);
      if (existing?.type === 'tree') throw new GitHubApiError(422, `${path} is a directory`);
      if (remove && !existing) throw new GitHubApiError(404, 'Not Found');
      if (existing && !sha) throw new GitHubApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
      if (sha && existing?.sha !== sha) {
        throw new GitHubApiError(
          409,
          `${path} does not match ${sha}`,
          `${CONTENTS_DOCS}#create-or-update-file-contents`,
        );
      }
      const author = personFrom(ctx.body, 'author', ctx.identity);
      const committer = personFrom(ctx.body, 'committer', author);
      const data = remove ? null : Buffer.from(content!, 'base64').toString('utf8');
      const commit = await repo.commitFiles(target, head, { [path]: data }, message, author, committer);
      const info = await store.commitInfo(commit);
      const written = remove ? null : await store.entryAt(commit, path);
      return {
        status: remove || existing ? 200 : 201,
        body: {
          content: written ? repo.contentEntry(ctx.base, written, target) : null,
          commit: repo.gitCommit(ctx.base, info),
        },
      };
    });

  route('GET', '/repos/{owner}/{repo}/contents', async (ctx) => readContents(ctx, ''));
  route('GET', '/repos/{owner}/{repo}/contents/{path+}', async (ctx, { path }) => readContents(ctx, path!));
  route('PUT', '/repos/{owner}/{repo}/contents/{path+}', (ctx, { path }) => writeContents(ctx, path!, false));
  route('DELETE', '/repos/{owner}/{repo}/contents/{path+}', (ctx, { path }) =>
    writeContents(ctx, path!, true),
  );
}
