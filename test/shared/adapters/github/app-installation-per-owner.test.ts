/**
 * One GitHub App installed on two owners (issue 13): the client finds the installation of each
 * repository's owner (GET /repos/{owner}/{repo}/installation, with the app JWT), keeps installation
 * ids and tokens per owner, and says plainly which owner lacks the app. Against GitHub stand-ins
 * that share one app behind one API address, where an installation token reaches its own owner's
 * repositories only, as on GitHub.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Octokit } from '@octokit/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GitHubApp,
  type GitHubAppInstallation,
  type GitHubFront,
  type GitHubServer,
  startGitHubFront,
  startGitHubServer,
} from '../../../../local/stand-ins/github/index.js';
import {
  appJwt,
  authenticateAsInstallation,
  GitHubAppNotInstalledError,
} from '../../../../shared/adapters/github/app-installation-auth.js';
import { createGitHubOctokit } from '../../../../shared/adapters/github/client.js';
import { githubRepository } from '../../../../shared/adapters/github/repository.js';
import { TerminalError } from '../../../../shared/errors.js';
import { processCommitQueue } from '../../../../shared/steps/commit/process-commit-queue.js';
import { imageRequest, recordingRuns, recordingTaskTokens } from '../../steps/commit/support.js';

const APP_ID = 4242;
const INFRA = 'itdo-erp/itdo-erp-infrastructure';
const PRODUCTION = 'itdo-erp/itdo-erp-production';
const CHARTS = 'itdo-charts/charts';
const LOOKUP = 'GET /repos/{owner}/{repo}/installation';
const MINT = 'POST /app/installations/{installation_id}/access_tokens';

let pem: string;
let servers: GitHubServer[] = [];
let front: GitHubFront | undefined;

beforeAll(() => {
  pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
});

afterEach(async () => {
  await front?.close();
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
  front = undefined;
});

/** The three repositories under two owners, one app installed on the given owners, one API address. */
async function start(installations: GitHubAppInstallation[]): Promise<string> {
  const app = new GitHubApp({ appId: APP_ID, privateKey: pem, installations });
  for (const fullName of [INFRA, PRODUCTION, CHARTS]) {
    const [owner, repo] = fullName.split('/') as [string, string];
    servers.push(await startGitHubServer({ owner, repo, app, seed: { 'README.md': `# ${repo}\n` } }));
  }
  front = await startGitHubFront(servers);
  return front.url;
}

const BOTH_OWNERS: GitHubAppInstallation[] = [
  { id: 11, owner: 'itdo-erp' },
  { id: 22, owner: 'itdo-charts', type: 'User' },
];

/** Requests of one route over every stand-in. */
const calls = (route: string) =>
  servers.flatMap((server) => server.stats.requests).filter((request) => request.route === route);

async function appClient(apiUrl: string, options: { installationId?: number } = {}) {
  return createGitHubOctokit(
    {
      apiUrl,
      app: {
        appId: String(APP_ID),
        ...(options.installationId ? { installationId: String(options.installationId) } : {}),
        privateKey: { source: 'secret', name: 'shiplane/github-app-key' },
      },
    },
    {
      resolveSecret: async () => pem,
      homeRepository: INFRA,
      retryBaseMs: 1,
      rateLimitSecondMs: 1,
      minWriteIntervalMs: 0,
      log: { debug() {}, info() {}, warn() {}, error() {} },
    },
  );
}

describe('a GitHub App installed on two owners', () => {
  it('reaches repositories under both with one lookup and one token per owner, then reuses them', async () => {
    const octokit = await appClient(await start(BOTH_OWNERS));
    const heads = async () =>
      Promise.all(
        [INFRA, PRODUCTION, CHARTS].map((name) => githubRepository(octokit, name).branchHead('main')),
      );

    const first = await heads();
    await heads();
    await Promise.all([heads(), heads()]);

    expect(first.map((head) => head.commit)).toEqual(await Promise.all(servers.map((s) => s.head())));
    expect(calls(LOOKUP).map((request) => request.path)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/repos\/itdo-erp\/[^/]+\/installation$/),
        '/repos/itdo-charts/charts/installation',
      ]),
    );
    expect(calls(LOOKUP)).toHaveLength(2);
    expect(
      calls(MINT)
        .map((request) => request.path)
        .sort(),
    ).toEqual(['/app/installations/11/access_tokens', '/app/installations/22/access_tokens']);
  });

  it('uses a configured installation id for the GitOps repository’s owner and looks up only the other', async () => {
    const octokit = await appClient(await start(BOTH_OWNERS), { installationId: 11 });

    await githubRepository(octokit, INFRA).branchHead('main');
    await githubRepository(octokit, CHARTS).branchHead('main');

    expect(calls(LOOKUP).map((request) => request.path)).toEqual(['/repos/itdo-charts/charts/installation']);
    expect(calls(MINT)).toHaveLength(2);
  });

  it('replaces each owner’s token before it expires, without looking the installation up again', async () => {
    const apiUrl = await start(BOTH_OWNERS);
    let now = Date.now();
    const octokit = new Octokit({ baseUrl: apiUrl, request: { retries: 0 } });
    authenticateAsInstallation(octokit, { appId: APP_ID, privateKey: pem }, () => now);
    const read = (fullName: string) => githubRepository(octokit, fullName).branchHead('main');

    await read(INFRA);
    await read(CHARTS);
    now += 54 * 60_000;
    await read(PRODUCTION);
    await read(CHARTS);
    expect(calls(MINT)).toHaveLength(2);

    now += 2 * 60_000;
    await read(INFRA);
    await read(CHARTS);
    expect(calls(MINT)).toHaveLength(4);
    expect(calls(LOOKUP)).toHaveLength(2);
  });

  it('is what GitHub does: one owner’s installation token does not reach the other owner’s repository', async () => {
    const apiUrl = await start(BOTH_OWNERS);
    const bearer = { authorization: `bearer ${appJwt({ appId: APP_ID, privateKey: pem })}` };
    const minted = await fetch(`${apiUrl}/app/installations/11/access_tokens`, {
      method: 'POST',
      headers: bearer,
    });
    const { token } = (await minted.json()) as { token: string };
    const read = (fullName: string) =>
      fetch(`${apiUrl}/repos/${fullName}/branches/main`, { headers: { authorization: `token ${token}` } });

    expect(minted.status).toBe(201);
    expect((await read(PRODUCTION)).status).toBe(200);
    expect((await read(CHARTS)).status).toBe(404);
  });
});

describe('a GitHub App not installed on an owner', () => {
  it('fails naming the owner and telling to install the app; nothing is written, and the next try looks again', async () => {
    const octokit = await appClient(await start([{ id: 11, owner: 'itdo-erp' }]));
    const charts = githubRepository(octokit, CHARTS);
    const before = await servers[2]!.head();

    await expect(githubRepository(octokit, INFRA).branchHead('main')).resolves.toBeDefined();
    const failure = await charts.branchHead('main').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(GitHubAppNotInstalledError);
    expect(failure).toBeInstanceOf(TerminalError);
    expect((failure as Error).message).toBe(
      'GitHub App 4242 is not installed on itdo-charts (GET /repos/itdo-charts/charts/installation answered 404): install the app on the itdo-charts account with contents: write on itdo-charts/charts, or move the repository under an owner it is installed on',
    );
    await expect(charts.readFile('README.md', before)).rejects.toBeInstanceOf(GitHubAppNotInstalledError);
    expect(calls(LOOKUP).filter((request) => request.path.includes('itdo-charts'))).toHaveLength(2);
    expect(servers[2]!.stats.requests.filter((request) => request.route !== LOOKUP)).toEqual([]);
    expect(await servers[2]!.head()).toBe(before);
  });
});

describe('the committer with a repository whose owner lacks the App', () => {
  it('fails that run with the reason (not redelivered) and commits the other owner’s change', async () => {
    const octokit = await appClient(await start([{ id: 11, owner: 'itdo-erp' }]));
    const file = 'environments/production/kustomization.yaml';
    const kustomization = `images:\n  - name: itdo-erp/frontend\n    newTag: v1.8.1\n`;
    await servers[1]!.commitAs({ [file]: kustomization });
    await servers[2]!.commitAs({ [file]: kustomization });
    const toProduction = {
      ...imageRequest('frontend', 'v1.8.2', { stage: 'production' }),
      repository: PRODUCTION,
    };
    const toCharts = {
      ...imageRequest('frontend', 'v1.8.2', { stage: 'production', token: 'token-charts', hex: 'c' }),
      repository: CHARTS,
    };
    const tokens = recordingTaskTokens();
    const runs = recordingRuns();
    runs.running(toProduction, toCharts);
    const chartsHead = await servers[2]!.head();

    const summary = await processCommitQueue(
      [
        { messageId: 'm-production', body: JSON.stringify(toProduction) },
        { messageId: 'm-charts', body: JSON.stringify(toCharts) },
      ],
      { repository: (name) => githubRepository(octokit, name), taskTokens: tokens, runs },
    );

    expect(summary.batchItemFailures).toEqual([]);
    expect(summary.commits).toBe(1);
    expect(await servers[1]!.readFile(file)).toContain('newTag: v1.8.2');
    expect(await servers[2]!.head()).toBe(chartsHead);
    const failed = tokens.answers.find((answer) => answer.token === 'token-charts');
    expect(failed?.error).toBe('Shiplane.CommitFailed');
    expect(failed?.cause).toContain(
      'failed with GitHubAppNotInstalledError: GitHub App 4242 is not installed on itdo-charts',
    );
  });
});

describe('the stand-in’s installation endpoints', () => {
  it('answers GET /orgs|users/{owner}/installation with the app JWT as GitHub does, and 404 where the app is not', async () => {
    const apiUrl = await start(BOTH_OWNERS);
    const get = (path: string, authorization = `bearer ${appJwt({ appId: APP_ID, privateKey: pem })}`) =>
      fetch(`${apiUrl}${path}`, { headers: { authorization } });

    const org = await get('/orgs/itdo-erp/installation');
    const body = (await org.json()) as {
      id: number;
      app_id: number;
      account: { login: string; type: string };
    };
    expect(org.status).toBe(200);
    expect(body).toMatchObject({
      id: 11,
      app_id: APP_ID,
      account: { login: 'itdo-erp', type: 'Organization' },
    });
    expect((await get('/users/itdo-charts/installation')).status).toBe(200);
    expect((await get('/orgs/itdo-charts/installation')).status).toBe(404);
    expect((await get('/orgs/someone-else/installation')).status).toBe(404);
    expect((await get('/repos/itdo-charts/charts/installation')).status).toBe(200);
    expect((await get('/orgs/itdo-erp/installation', 'token ghp_not_a_jwt')).status).toBe(401);
  });
});
