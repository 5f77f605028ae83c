/**
 * A GitHub that does not answer is never silence: every retry the client makes is said on its log
 * with the wait before it. Against a local port that refuses connections.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createGitHubOctokit } from '../../../../shared/adapters/github/client.js';

/** A port on 127.0.0.1 with nothing listening: connections are refused at once. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the GitHub client against an unreachable GitHub', () => {
  it('logs each retry and its wait, then fails', async () => {
    const port = await refusingPort();
    const warnings: string[] = [];
    const octokit = await createGitHubOctokit(
      { apiUrl: `http://127.0.0.1:${port}`, token: { source: 'env', name: 'T' } },
      {
        resolveSecret: async () => 'ghp_test',
        retries: 2,
        retryBaseMs: 10,
        log: { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: () => {} },
      },
    );

    await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' })).rejects.toThrow();

    const retries = warnings.filter((line) => line.includes('retry'));
    expect(retries).toEqual([
      expect.stringMatching(
        /^GitHub GET \/repos\/\{owner\}\/\{repo\} failed \(500: .*\); retry 1 of 2 in 0\.01s$/,
      ),
      expect.stringMatching(
        /^GitHub GET \/repos\/\{owner\}\/\{repo\} failed \(500: .*\); retry 2 of 2 in 0\.04s$/,
      ),
    ]);
  });
});
