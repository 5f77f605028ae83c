/**
 * An Argo CD that does not answer is never silence: every retry the client makes is said with what
 * failed, which attempt and the wait before the next. Against a local port that refuses connections.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createArgoCdClient } from '../../../../shared/adapters/argocd/client.js';
import { createSecretResolver } from '../../../../shared/adapters/aws/secrets.js';
import { ArgoCdUnreachableError } from '../../../../shared/ports/argocd.js';

/** A port on 127.0.0.1 with nothing listening: connections are refused at once. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const TOKEN = 'argocd-secret-token';

function client(url: string, notices: string[]) {
  return createArgoCdClient({
    url,
    token: { source: 'env', name: 'ARGOCD_TOKEN' },
    resolveSecret: createSecretResolver({ env: { ARGOCD_TOKEN: TOKEN } }),
    attempts: 3,
    backoffMs: 10,
    onRetry: (notice) => notices.push(notice),
  });
}

describe('the Argo CD client against an unreachable Argo CD', () => {
  it('says each retry with the attempt and its wait, then fails', async () => {
    const port = await refusingPort();
    const notices: string[] = [];

    await expect(
      client(`http://127.0.0.1:${port}`, notices).getApplication('backend-staging'),
    ).rejects.toThrow(ArgoCdUnreachableError);

    expect(notices).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Argo CD at http://127\\.0\\.0\\.1:${port} unreachable for reading backend-staging \\(attempt 1 of 3: .*ECONNREFUSED.*\\); retrying in 0\\.01 s$`,
        ),
      ),
      expect.stringMatching(/\(attempt 2 of 3: .*ECONNREFUSED.*\); retrying in 0\.02 s$/),
    ]);
  });

  it('keeps the token and any credentials in the URL out of the notices and the error', async () => {
    const port = await refusingPort();
    const notices: string[] = [];

    const failure = await client(`http://admin:hunter2@127.0.0.1:${port}/argocd`, notices)
      .syncApplication('backend-staging', { revision: 'abc' })
      .catch((error: Error) => error);

    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatch(
      new RegExp(`^Argo CD at http://127\\.0\\.0\\.1:${port}/argocd unreachable for syncing`),
    );
    for (const text of [...notices, (failure as Error).message]) {
      expect(text).not.toMatch(/hunter2|admin|argocd-secret-token/);
    }
  });
});
