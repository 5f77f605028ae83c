/**
 * A GitHub App's own routes, authenticated with its JWT: the installation on a repository's owner, an
 * organization or a user (404 when the app is not installed there), and
 * `POST /app/installations/{installation_id}/access_tokens`, the JWT exchanged for an installation token.
 */
import type { Credentials } from '../auth.js';
import type { AddRoute, Reply } from '../context.js';
import { GitHubApiError } from '../errors.js';
import type { ServedRepository } from '../served-repository.js';

export function addAppRoutes(route: AddRoute, credentials: Credentials, repo: ServedRepository): void {
  const installation = (owner: string, base: string, type?: 'Organization' | 'User'): Reply => {
    const found = credentials.app?.installationOn(owner);
    if (!found || (type !== undefined && (found.type ?? 'Organization') !== type)) {
      throw new GitHubApiError(404, 'Not Found');
    }
    return { status: 200, body: credentials.app?.describe(found, base) };
  };

  route('GET', '/repos/{owner}/{repo}/installation', async (ctx) => installation(repo.owner, ctx.base));
  route('GET', '/orgs/{org}/installation', async (ctx, { org }) =>
    installation(org!, ctx.base, 'Organization'),
  );
  // GitHub finds an organization's installation here too: an organization is an account like a user.
  route('GET', '/users/{username}/installation', async (ctx, { username }) =>
    installation(username!, ctx.base),
  );

  route('POST', '/app/installations/{installation_id}/access_tokens', async (_ctx, { installation_id }) => {
    const issued = credentials.app?.issueToken(installation_id!);
    if (!issued) throw new GitHubApiError(404, 'Not Found');
    return {
      status: 201,
      body: {
        token: issued.token,
        expires_at: new Date(issued.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { contents: 'write', metadata: 'read', pull_requests: 'write' },
        repository_selection: 'all',
      },
    };
  });
}
