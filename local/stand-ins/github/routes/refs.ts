/**
 * The Git Data API's references: read one or a prefix, create, move and delete. A move that is not a
 * fast-forward is 422 "Update is not a fast forward" unless forced, and every move is a
 * compare-and-swap on the ref, so two writers can never both win.
 */
import { type AddRoute, field, type RequestContext, SHA } from '../context.js';
import { GitHubApiError } from '../errors.js';
import type { ServedRepository } from '../served-repository.js';

export function addRefRoutes(
  route: AddRoute,
  repo: ServedRepository,
  /** Told of a deleted branch and who deleted it (GitHub closes the pull requests it heads). */
  onBranchDeleted: (branch: string, by: RequestContext['identity']) => void = () => undefined,
): void {
  const { store } = repo;

  const refsUnder = async (ctx: RequestContext, prefix: string) => {
    const refs = await store.listRefs(`refs/${prefix.replace(/\/$/, '')}`);
    return refs
      .map(({ ref, sha }) => repo.ref(ctx.base, ref, sha))
      .filter((entry) => entry.ref.startsWith(`refs/${prefix}`));
  };

  route('GET', '/repos/{owner}/{repo}/git/ref/{ref+}', async (ctx, { ref }) => {
    const sha = await store.refTarget(`refs/${ref}`);
    if (!sha || !/^(heads|tags)\//.test(ref!)) throw new GitHubApiError(404, 'Not Found');
    return {
      status: 200,
      body: repo.ref(ctx.base, `refs/${ref}`, sha, (await store.objectType(sha)) ?? 'commit'),
    };
  });

  route('GET', '/repos/{owner}/{repo}/git/matching-refs/{ref+}', async (ctx, { ref }) => ({
    status: 200,
    body: await refsUnder(ctx, ref!),
  }));

  // The old form: one ref when the name is exact, else the refs under it as a list.
  route('GET', '/repos/{owner}/{repo}/git/refs/{ref+}', async (ctx, { ref }) => {
    const exact = await store.refTarget(`refs/${ref}`);
    if (exact && /^(heads|tags)\//.test(ref!))
      return { status: 200, body: repo.ref(ctx.base, `refs/${ref}`, exact) };
    const list = await refsUnder(ctx, ref!);
    if (list.length === 0) throw new GitHubApiError(404, 'Not Found');
    return { status: 200, body: list };
  });

  route('POST', '/repos/{owner}/{repo}/git/refs', (ctx) =>
    repo.serialise(async () => {
      const ref = field<string>(ctx.body, 'ref');
      const sha = field<string>(ctx.body, 'sha');
      if (!ref || !/^refs\/(heads|tags)\/.+/.test(ref) || !sha) {
        throw new GitHubApiError(422, 'Reference name must start with refs/ and have at least two slashes.');
      }
      if (!(await store.resolveCommit(sha))) throw new GitHubApiError(422, 'Object does not exist');
      if (!(await store.updateRef(ref, sha, null))) throw new GitHubApiError(422, 'Reference already exists');
      return { status: 201, body: repo.ref(ctx.base, ref, sha) };
    }),
  );

  route('PATCH', '/repos/{owner}/{repo}/git/refs/{ref+}', (ctx, { ref }) =>
    repo.serialise(async () => {
      const sha = field<string>(ctx.body, 'sha');
      const force = field<boolean>(ctx.body, 'force') === true;
      const name = `refs/${ref}`;
      const current = await store.refTarget(name);
      if (!current) throw new GitHubApiError(422, 'Reference does not exist');
      if (!sha || !SHA.test(sha) || !(await store.resolveCommit(sha))) {
        throw new GitHubApiError(422, 'Object does not exist');
      }
      if (!force && !(await store.isAncestor(current, sha))) {
        throw new GitHubApiError(
          422,
          'Update is not a fast forward',
          'https://docs.github.com/rest/git/refs#update-a-reference',
        );
      }
      if (!(await store.updateRef(name, sha, current)))
        throw new GitHubApiError(422, 'Update is not a fast forward');
      return { status: 200, body: repo.ref(ctx.base, name, sha) };
    }),
  );

  route('DELETE', '/repos/{owner}/{repo}/git/refs/{ref+}', (ctx, { ref }) =>
    repo.serialise(async () => {
      const current = await store.refTarget(`refs/${ref}`);
      if (!current) throw new GitHubApiError(422, 'Reference does not exist');
      await store.deleteRef(`refs/${ref}`, current);
      if (ref!.startsWith('heads/')) onBranchDeleted(ref!.slice('heads/'.length), ctx.identity);
      return { status: 204 };
    }),
  );
}
