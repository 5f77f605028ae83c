/** `GET /repos/{owner}/{repo}` and `GET …/branches/{branch}`. */
import type { AddRoute } from '../context.js';
import { nodeId, type ServedRepository } from '../served-repository.js';

export function addRepositoryRoutes(route: AddRoute, repo: ServedRepository): void {
  route('GET', '/repos/{owner}/{repo}', async (ctx) => ({
    status: 200,
    body: {
      id: 1,
      node_id: nodeId('R', repo.fullName),
      name: repo.repo,
      full_name: repo.fullName,
      owner: { login: repo.owner, type: 'Organization' },
      private: true,
      html_url: repo.htmlUrl,
      url: repo.apiUrl(ctx.base),
      default_branch: repo.branch,
      permissions: { admin: false, maintain: false, push: true, triage: false, pull: true },
    },
  }));

  route('GET', '/repos/{owner}/{repo}/branches/{branch+}', async (ctx, { branch: name }) => {
    const sha = await repo.branchHead(name!);
    const info = await repo.store.commitInfo(sha);
    return {
      status: 200,
      body: {
        name,
        commit: await repo.repoCommit(ctx.base, info, false),
        _links: { self: `${repo.apiUrl(ctx.base)}/branches/${name}`, html: `${repo.htmlUrl}/tree/${name}` },
        protected: false,
      },
    };
  });
}
