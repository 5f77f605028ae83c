/** The commits API: history (optionally of one path), one commit with its files, and compare. */
import type { AddRoute } from '../context.js';
import { GitHubApiError } from '../errors.js';
import type { ServedRepository } from '../served-repository.js';

export function addCommitRoutes(route: AddRoute, repo: ServedRepository): void {
  const { store } = repo;

  route('GET', '/repos/{owner}/{repo}/commits', async (ctx) => {
    const sha = await repo.requireCommit(ctx.query.get('sha') ?? repo.branch);
    const perPage = Math.min(Number(ctx.query.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(ctx.query.get('page') ?? 1) || 1, 1);
    const path = ctx.query.get('path') ?? undefined;
    const shas = await store.history(sha, {
      limit: perPage,
      skip: (page - 1) * perPage,
      ...(path ? { path } : {}),
    });
    const body = [];
    for (const commit of shas)
      body.push(await repo.repoCommit(ctx.base, await store.commitInfo(commit), false));
    return { status: 200, body };
  });

  route('GET', '/repos/{owner}/{repo}/commits/{ref+}', async (ctx, { ref }) => {
    const sha = await repo.requireCommit(ref!);
    // `Accept: application/vnd.github.sha` asks for the bare sha (what Octokit's ref resolution uses).
    if (/application\/vnd\.github(\.v3)?\.sha/.test(String(ctx.headers.accept)))
      return { status: 200, raw: sha };
    return { status: 200, body: await repo.repoCommit(ctx.base, await store.commitInfo(sha), true) };
  });

  route('GET', '/repos/{owner}/{repo}/compare/{basehead+}', async (ctx, { basehead }) => {
    const text = basehead!;
    const split = text.includes('...') ? text.split('...') : text.split('..');
    if (split.length !== 2) throw new GitHubApiError(404, 'Not Found');
    const base = await store.resolveCommit(split[0]!);
    const headSha = await store.resolveCommit(split[1]!);
    if (!base || !headSha) throw new GitHubApiError(404, 'Not Found');
    const mergeBase = await store.mergeBase(base, headSha);
    if (!mergeBase) throw new GitHubApiError(404, `No common ancestor between ${split[0]} and ${split[1]}.`);
    const aheadBy = await store.countBetween(base, headSha);
    const behindBy = await store.countBetween(headSha, base);
    const perPage = Math.min(Number(ctx.query.get('per_page') ?? 250) || 250, 250);
    const commits = [];
    for (const sha of await store.commitsBetween(base, headSha, perPage)) {
      commits.push(await repo.repoCommit(ctx.base, await store.commitInfo(sha), false));
    }
    const files = await store.changedFiles(mergeBase, headSha);
    return {
      status: 200,
      body: {
        url: `${repo.apiUrl(ctx.base)}/compare/${text}`,
        html_url: `${repo.htmlUrl}/compare/${text}`,
        base_commit: await repo.repoCommit(ctx.base, await store.commitInfo(base), false),
        merge_base_commit: await repo.repoCommit(ctx.base, await store.commitInfo(mergeBase), false),
        status: compareStatus(aheadBy, behindBy),
        ahead_by: aheadBy,
        behind_by: behindBy,
        total_commits: aheadBy,
        commits,
        files: files.map((file) => ({ ...file, changes: file.additions + file.deletions })),
      },
    };
  });
}

function compareStatus(aheadBy: number, behindBy: number): 'identical' | 'ahead' | 'behind' | 'diverged' {
  if (aheadBy === 0 && behindBy === 0) return 'identical';
  if (behindBy === 0) return 'ahead';
  if (aheadBy === 0) return 'behind';
  return 'diverged';
}
