import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { GitHubServer } from '../../../../local/stand-ins/github/index.js';
import { connectGitHub } from '../../../../shared/adapters/github/client.js';
import {
  GitHubAuthError,
  GitHubNotFoundError,
  githubRepository,
} from '../../../../shared/adapters/github/repository.js';
import { TerminalError } from '../../../../shared/errors.js';
import { GitHubUnavailableError, NonFastForwardError } from '../../../../shared/ports/gitops-repository.js';
import { connect, REPO, REPOSITORY, STAGING, startItdoGitHub } from '../../steps/commit/support.js';

let server: GitHubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setUp(options: Parameters<typeof connect>[1] = {}) {
  server = await startItdoGitHub();
  const github = await connect(server, options);
  return {
    server,
    repository: githubRepository(github.octokit, REPOSITORY, {
      credentials: github.credentials,
      apiUrl: github.apiUrl,
    }),
  };
}

describe('githubRepository', () => {
  it('reads the branch head with its tree, and files at that commit', async () => {
    const { server, repository } = await setUp();

    const head = await repository.branchHead('main');
    const file = await repository.readFile(STAGING, head.commit);
    const missing = await repository.readFile('environments/qa/kustomization.yaml', head.commit);

    expect(head.commit).toBe(await server.head());
    expect(head.tree).toBe((await server.git('rev-parse', 'main^{tree}')).trim());
    expect(file).toBe(await server.readFile(STAGING));
    expect(missing).toBeNull();
  });

  it('writes a multi-file commit with tree, commit and a fast-forward ref update: five calls, no blob calls', async () => {
    const { server, repository } = await setUp();
    server.resetStats();

    const head = await repository.branchHead('main');
    const commit = await repository.createCommit(
      head,
      [
        { path: STAGING, content: 'images: []\n' },
        { path: 'environments/staging/ingress.yaml', content: null },
        { path: 'environments/staging/new.yaml', content: 'kind: ConfigMap\n' },
      ],
      'Promote 2 images to staging\n',
    );
    await repository.readFile(STAGING, head.commit);
    await repository.updateBranch('main', commit);

    expect(await server.head()).toBe(commit);
    expect(await server.readFile(STAGING)).toBe('images: []\n');
    expect(await server.readFile('environments/staging/ingress.yaml')).toBeNull();
    expect(await server.readFile('environments/staging/new.yaml')).toBe('kind: ConfigMap\n');
    expect(await server.readFile('environments/production/kustomization.yaml')).not.toBeNull();
    expect((await server.git('log', '-1', '--format=%P', 'main')).trim()).toBe(head.commit);
    expect(server.stats.byRoute).toEqual({
      'GET /repos/{owner}/{repo}/branches/{branch}': 1,
      'POST /repos/{owner}/{repo}/git/trees': 1,
      'POST /repos/{owner}/{repo}/git/commits': 1,
      'GET /repos/{owner}/{repo}/contents/{path}': 1,
      'PATCH /repos/{owner}/{repo}/git/refs/{ref}': 1,
    });
  });

  it('refuses to move a branch that someone else moved (not a fast-forward), without retrying the 422', async () => {
    const { server, repository } = await setUp();
    const head = await repository.branchHead('main');
    const commit = await repository.createCommit(head, [{ path: 'a.txt', content: 'a\n' }], 'mine\n');
    const theirs = await server.commitAs({ 'b.txt': 'b\n' });

    await expect(repository.updateBranch('main', commit)).rejects.toBeInstanceOf(NonFastForwardError);
    expect(await server.head()).toBe(theirs);
    expect(server.stats.byRoute['PATCH /repos/{owner}/{repo}/git/refs/{ref}']).toBe(1);
  });

  it('retries 502s and answers once GitHub recovers', async () => {
    const { server, repository } = await setUp();
    server.inject({ kind: 'bad-gateway', path: '/branches/', times: 2 });

    const head = await repository.branchHead('main');

    expect(head.commit).toBe(await server.head());
    expect(server.stats.byRoute['GET /repos/{owner}/{repo}/branches/{branch}']).toBe(3);
  });

  it('retries a dropped connection', async () => {
    const { server, repository } = await setUp();
    server.inject({ kind: 'connection-reset', path: '/contents/' });
    const head = await repository.branchHead('main');

    const file = await repository.readFile(STAGING, head.commit);

    expect(file).toBe(await server.readFile(STAGING));
    expect(server.stats.byRoute['GET /repos/{owner}/{repo}/contents/{path}']).toBe(2);
  });

  it('gives up after the retries when GitHub stays down, with an error worth retrying later', async () => {
    const { server, repository } = await setUp({ retries: 2 });
    server.inject({ kind: 'server-error', path: '/branches/', times: 10 });

    const error = await repository.branchHead('main').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitHubUnavailableError);
    expect(error).not.toBeInstanceOf(TerminalError);
    expect(server.stats.byRoute['GET /repos/{owner}/{repo}/branches/{branch}']).toBe(3);
  });

  it('waits out a secondary rate limit for retry-after, then goes on', async () => {
    const warnings: string[] = [];
    const { server, repository } = await setUp({
      log: { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} },
    });
    server.inject({ kind: 'secondary-rate-limit', path: '/git/trees', retryAfter: 3 });
    const head = await repository.branchHead('main');

    const commit = await repository.createCommit(head, [{ path: 'a.txt', content: 'a\n' }], 'm\n');

    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(server.stats.byRoute['POST /repos/{owner}/{repo}/git/trees']).toBe(2);
    expect(warnings).toEqual([
      expect.stringMatching(/secondary rate limit on POST .*git\/trees: retrying after 3s/),
    ]);
  });

  it('does not wait longer than allowed for a rate limit, and reports it as worth retrying later', async () => {
    const { server, repository } = await setUp({ maxRateLimitWaitSeconds: 30 });
    server.inject({ kind: 'secondary-rate-limit', path: '/branches/', retryAfter: 120 });

    await expect(repository.branchHead('main')).rejects.toBeInstanceOf(GitHubUnavailableError);
  });

  it('reports bad credentials as a terminal error that names the secret to check', async () => {
    const { repository } = await setUp({ token: 'ghp_revoked' });

    const error = (await repository.branchHead('main').catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(GitHubAuthError);
    expect(error.message).toBe(
      `GitHub rejected the credentials while trying to read branch main in ${REPOSITORY} at ${server!.url} (401 Bad credentials): check the token in secret:shiplane/github-token`,
    );
  });

  it('reports a missing branch as not found', async () => {
    const { repository } = await setUp();

    await expect(repository.branchHead('release')).rejects.toBeInstanceOf(GitHubNotFoundError);
  });

  it('reads the token on every request, so a rotated token is used without a restart', async () => {
    server = await startItdoGitHub();
    let token = 'ghp_old';
    const github = await connect(server, {});
    const rotating = await connectGitHub(
      { apiUrl: server.url, token: { source: 'secret', name: 'shiplane/github-token' } },
      { resolveSecret: async () => token, retryBaseMs: 1, minWriteIntervalMs: 0 },
    );
    const repository = githubRepository(rotating.octokit, REPOSITORY);

    await expect(repository.branchHead('main')).rejects.toBeInstanceOf(GitHubAuthError);
    token = 'ghp_committer_test_token';
    await expect(repository.branchHead('main')).resolves.toMatchObject({ commit: await server.head() });
    expect(github.credentials).toBe('the token in secret:shiplane/github-token');
  });

  it('authenticates as a GitHub App installation with a private key from a secret reference', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    server = await startItdoGitHub({
      token: undefined,
      app: { appId: 4242, installationId: 99, privateKey: pem },
    });
    const resolved: string[] = [];
    const github = await connectGitHub(
      {
        apiUrl: server.url,
        app: {
          appId: '4242',
          installationId: '99',
          privateKey: { source: 'secret', name: 'shiplane/github-app-key' },
        },
      },
      {
        resolveSecret: async (ref) => {
          resolved.push(`${ref.source}:${ref.name}`);
          return pem;
        },
        minWriteIntervalMs: 0,
      },
    );

    const head = await githubRepository(github.octokit, REPOSITORY).branchHead('main');

    expect(head.commit).toBe(await server.head());
    expect(resolved).toEqual(['secret:shiplane/github-app-key']);
    expect(github.credentials).toBe(
      'GitHub App 4242 (installation 99, private key secret:shiplane/github-app-key)',
    );
  });

  it('talks to GitHub Enterprise through its /api/v3 URL', async () => {
    server = await startItdoGitHub();
    const github = await connect(server, { apiUrl: server.enterpriseUrl });

    const head = await githubRepository(github.octokit, `itdo-erp/${REPO}`).branchHead('main');

    expect(head.commit).toBe(await server.head());
    expect(server.stats.requests.at(-1)?.path).toBe('/repos/itdo-erp/itdo-erp-infrastructure/branches/main');
  });
});
