import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Octokit } from '@octokit/rest';
import { afterEach, describe, expect, it } from 'vitest';
import { AncestryAccessError, createGitHubAncestry } from '../../../../shared/adapters/github/ancestry.js';
import { TerminalError } from '../../../../shared/errors.js';
import { AncestryUnavailableError } from '../../../../shared/ports/gitops-repository.js';

const BASE = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';
const LATER = '5e6f7a8b9c0d1e2f3a4b5c6d7e8f901234567890';
const OTHER = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Answers GitHub's compare endpoint from a table of `base...head` → status (or an HTTP error). */
async function github(answers: Record<string, string | number>) {
  const calls: string[] = [];
  server = createServer((req, res) => {
    const match = /^\/repos\/itdo-erp\/itdo-erp-infrastructure\/compare\/([^?]+)/.exec(req.url ?? '');
    const basehead = decodeURIComponent(match?.[1] ?? '');
    calls.push(basehead);
    const answer = answers[basehead];
    if (typeof answer === 'string') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          url: `https://api.github.com/repos/itdo-erp/itdo-erp-infrastructure/compare/${basehead}`,
          status: answer,
          ahead_by: answer === 'ahead' ? 1 : 0,
          behind_by: answer === 'behind' ? 1 : 0,
          total_commits: answer === 'ahead' ? 1 : 0,
          commits: [],
          files: [],
        }),
      );
      return;
    }
    res.writeHead(answer ?? 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: answer === 401 ? 'Bad credentials' : 'Not Found' }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ancestry = createGitHubAncestry({
    octokit: new Octokit({ baseUrl, auth: 'ghs_test', request: { retries: 0 } }),
    repository: 'itdo-erp/itdo-erp-infrastructure',
  });
  return { ancestry, calls };
}

describe('GitHub ancestry', () => {
  it('says a later commit contains ours when GitHub reports it ahead', async () => {
    const { ancestry } = await github({ [`${BASE}...${LATER}`]: 'ahead' });

    expect(await ancestry.contains(LATER, BASE)).toBe(true);
  });

  it('says an older or diverged commit does not contain ours', async () => {
    const { ancestry } = await github({
      [`${BASE}...${OTHER}`]: 'behind',
      [`${BASE}...${LATER}`]: 'diverged',
    });

    expect(await ancestry.contains(OTHER, BASE)).toBe(false);
    expect(await ancestry.contains(LATER, BASE)).toBe(false);
  });

  it('knows a commit contains itself without asking', async () => {
    const { ancestry, calls } = await github({});

    expect(await ancestry.contains(BASE, BASE)).toBe(true);
    expect(calls).toEqual([]);
  });

  it('asks GitHub once per pair', async () => {
    const { ancestry, calls } = await github({ [`${BASE}...${LATER}`]: 'ahead' });

    await ancestry.contains(LATER, BASE);
    await ancestry.contains(LATER, BASE);

    expect(calls).toEqual([`${BASE}...${LATER}`]);
  });

  it('treats a commit GitHub does not know as not containing ours, and asks again later', async () => {
    const { ancestry, calls } = await github({});

    expect(await ancestry.contains(LATER, BASE)).toBe(false);
    expect(await ancestry.contains(LATER, BASE)).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('reports a GitHub outage as unavailable, not terminal', async () => {
    const { ancestry } = await github({ [`${BASE}...${LATER}`]: 502 });

    const error = await ancestry.contains(LATER, BASE).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AncestryUnavailableError);
    expect(error).not.toBeInstanceOf(TerminalError);
  });

  it('reports bad credentials as terminal', async () => {
    const { ancestry } = await github({ [`${BASE}...${LATER}`]: 401 });

    const error = await ancestry.contains(LATER, BASE).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AncestryAccessError);
    expect((error as Error).message).toBe(
      'GitHub refused to compare 9f8e7d6...5e6f7a8 in itdo-erp/itdo-erp-infrastructure (401): check the GitHub token or app installation can read the repository',
    );
  });
});
