/** `POST /app/installations/{installation_id}/access_tokens`: a GitHub App's JWT exchanged for a token. */
import type { Credentials } from '../auth.js';
import type { AddRoute } from '../context.js';
import { GitHubApiError } from '../errors.js';

export function addAppRoutes(route: AddRoute, credentials: Credentials): void {
  route('POST', '/app/installations/{installation_id}/access_tokens', async (_ctx, { installation_id }) => {
    const issued = credentials.issueInstallationToken(installation_id!);
    if (!issued) throw new GitHubApiError(404, 'Not Found');
    return {
      status: 201,
      body: {
        token: issued.token,
        expires_at: new Date(issued.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { contents: 'write', metadata: 'read' },
        repository_selection: 'selected',
      },
    };
  });
}
