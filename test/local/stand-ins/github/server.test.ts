import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { afterEach, describe, expect, it } from 'vitest';
import { type GitHubServer, startGitHubServer } from '../../../../local/stand-ins/github/index.js';

const OWNER = 'itdo-erp';
const REPO = 'itdo-erp-infrastructure';
const TOKEN = 'ghp_stand_in_token';
const repo = { owner: OWNER, repo: REPO };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let server: GitHubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<Parameters<typeof startGitHubServer>[0]> = {}) {
  server = await startGitHubServer({
    owner: OWNER,
    repo: REPO,
    token: TOKEN,
    seed: { 'environments/staging/kustomization.yaml': 'images: []\n', 'README.md': '# infra\n' },
    ...options,
  });
  return { server, octokit: new Octokit({ baseUrl: server.url, auth: TOKEN, log: quiet }) };
}

const statusOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { status: number }).status;
  }
};

describe('GitHub stand-in', () => {
  it('commits through the Git Data API, and git log shows the commit', async () => {
    // Prepare
    const { server, octokit } = await start();
    const { data: branch } = await octokit.rest.repos.getBranch({ ...repo, branch: 'main' });

    // Act
    const { data: tree } = await octokit.rest.git.createTree({
      ...repo,
      base_tree: branch.commit.commit.tree.sha,
      tree: [
        {
          path: 'environments/staging/kustomization.yaml',
          mode: '100644',
          type: 'blob',
          content: 'images: [a]\n',
        },
      ],
    });
    const { data: commit } = await octokit.rest.git.createCommit({
      ...repo,
      message: 'Promote backend v2.1.6 to staging\n',
      tree: tree.sha,
      parents: [branch.commit.sha],
    });
    await octokit.rest.git.updateRef({ ...repo, ref: 'heads/main', sha: commit.sha, force: false });

    // Assess
    expect(await server.head()).toBe(commit.sha);
    expect(await server.readFile('environments/staging/kustomization.yaml')).toBe('images: [a]\n');
    expect(await server.readFile('README.md')).toBe('# infra\n');
    expect(await server.git('log', '--format=%s', 'main')).toBe(
      'Promote backend v2.1.6 to staging\nInitial commit\n',
    );
  });

  it('reads file contents as base64 with the blob sha, and 404s a missing file', async () => {
    const { octokit } = await start();

    const { data } = await octokit.rest.repos.getContent({ ...repo, path: 'README.md', ref: 'main' });
    const missing = statusOf(octokit.rest.repos.getContent({ ...repo, path: 'nope.yaml' }));

    expect(data).toMatchObject({ type: 'file', path: 'README.md', encoding: 'base64' });
    const file = data as { content: string; sha: string };
    expect(Buffer.from(file.content, 'base64').toString()).toBe('# infra\n');
    expect(file.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await missing).toBe(404);
  });

  it('refuses a contents update with a stale sha (409) or without a sha (422)', async () => {
    const { server, octokit } = await start();
    const { data } = await octokit.rest.repos.getContent({ ...repo, path: 'README.md' });
    const sha = (data as { sha: string }).sha;
    await server.commitAs({ 'README.md': '# changed by someone else\n' });
    const content = Buffer.from('# mine\n').toString('base64');

    const stale = await statusOf(
      octokit.rest.repos.createOrUpdateFileContents({
        ...repo,
        path: 'README.md',
        message: 'm',
        content,
        sha,
      }),
    );
    const noSha = await statusOf(
      octokit.rest.repos.createOrUpdateFileContents({ ...repo, path: 'README.md', message: 'm', content }),
    );
    const created = await octokit.rest.repos.createOrUpdateFileContents({
      ...repo,
      path: 'NEW.md',
      message: 'add',
      content,
    });

    expect([stale, noSha, created.status]).toEqual([409, 422, 201]);
    expect(await server.readFile('README.md')).toBe('# changed by someone else\n');
    expect(await server.readFile('NEW.md')).toBe('# mine\n');
  });

  it('refuses a ref update that is not a fast-forward with 422, and allows it with force', async () => {
    const { server, octokit } = await start();
    const base = await server.head();
    const { data: baseCommit } = await octokit.rest.git.getCommit({ ...repo, commit_sha: base });
    const { data: mine } = await octokit.rest.git.createCommit({
      ...repo,
      message: 'mine',
      tree: baseCommit.tree.sha,
      parents: [base],
    });
    const theirs = await server.commitAs({ 'README.md': 'theirs\n' });

    const error = await octokit.rest.git
      .updateRef({ ...repo, ref: 'heads/main', sha: mine.sha, force: false })
      .catch((e: unknown) => e as { status: number; message: string });

    expect(error).toMatchObject({
      status: 422,
      message: expect.stringContaining('Update is not a fast forward'),
    });
    expect(await server.head()).toBe(theirs);
    await octokit.rest.git.updateRef({ ...repo, ref: 'heads/main', sha: mine.sha, force: true });
    expect(await server.head()).toBe(mine.sha);
  });

  it('compares commits as GitHub does: identical, ahead, behind and diverged with counts', async () => {
    const { server, octokit } = await start();
    const first = await server.head();
    const second = await server.commitAs({ 'a.txt': 'a\n' });
    const third = await server.commitAs({ 'b.txt': 'b\n' });
    const { data: tree } = await octokit.rest.git.getCommit({ ...repo, commit_sha: first });
    const { data: side } = await octokit.rest.git.createCommit({
      ...repo,
      message: 'side',
      tree: tree.tree.sha,
      parents: [first],
    });
    const compare = async (basehead: string) => {
      const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead });
      return [data.status, data.ahead_by, data.behind_by];
    };

    expect(await compare(`${second}...${second}`)).toEqual(['identical', 0, 0]);
    expect(await compare(`${first}...${third}`)).toEqual(['ahead', 2, 0]);
    expect(await compare(`${third}...${first}`)).toEqual(['behind', 0, 2]);
    expect(await compare(`${side.sha}...main`)).toEqual(['diverged', 2, 1]);
    expect(
      await statusOf(
        octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${first}...${'0'.repeat(40)}` }),
      ),
    ).toBe(404);
  });

  it('serves a commit by ref with its files, and a branch ref', async () => {
    const { server, octokit } = await start();
    const sha = await server.commitAs(
      { 'README.md': '# new\n', 'docs/x.md': 'x\n' },
      { message: 'Edit docs\n' },
    );

    const { data: commit } = await octokit.rest.repos.getCommit({ ...repo, ref: 'main' });
    const { data: ref } = await octokit.rest.git.getRef({ ...repo, ref: 'heads/main' });

    expect(commit.sha).toBe(sha);
    expect(commit.commit.message).toBe('Edit docs');
    expect(commit.files?.map((file) => [file.filename, file.status])).toEqual([
      ['README.md', 'modified'],
      ['docs/x.md', 'added'],
    ]);
    expect(ref).toMatchObject({ ref: 'refs/heads/main', object: { sha, type: 'commit' } });
  });

  it('answers 401 Bad credentials to a wrong token', async () => {
    const { server } = await start();
    const intruder = new Octokit({ baseUrl: server.url, auth: 'ghp_wrong', log: quiet });

    const error = await intruder.rest.repos
      .get(repo)
      .catch((e: unknown) => e as { status: number; message: string });

    expect(error).toMatchObject({ status: 401, message: expect.stringContaining('Bad credentials') });
  });

  it('exchanges a GitHub App JWT for an installation token that works on the repository', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const { server } = await start({
      token: undefined,
      app: { appId: 12345, installationId: 678, privateKey: pem },
    });
    const app = new Octokit({
      baseUrl: server.url,
      authStrategy: createAppAuth,
      auth: { appId: 12345, installationId: 678, privateKey: pem },
      log: quiet,
    });
    const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const impostor = new Octokit({
      baseUrl: server.url,
      authStrategy: createAppAuth,
      auth: {
        appId: 12345,
        installationId: 678,
        privateKey: otherKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      },
      log: quiet,
    });

    const { data } = await app.rest.repos.get(repo);

    expect(data.full_name).toBe(`${OWNER}/${REPO}`);
    expect(await statusOf(impostor.rest.repos.get(repo))).toBe(401);
  });

  it('injects faults: a 502, a secondary rate limit with retry-after, then answers normally', async () => {
    const { server } = await start();
    server.inject({ kind: 'bad-gateway', method: 'GET', path: '/branches/' });
    server.inject({ kind: 'secondary-rate-limit', retryAfter: 7, path: '/branches/' });
    const get = () =>
      fetch(`${server.url}/repos/${OWNER}/${REPO}/branches/main`, {
        headers: { authorization: `token ${TOKEN}` },
      });

    const first = await get();
    const second = await get();
    const third = await get();

    expect(first.status).toBe(502);
    expect(second.status).toBe(403);
    expect(second.headers.get('retry-after')).toBe('7');
    expect(((await second.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    expect(third.status).toBe(200);
    expect(server.stats.faults).toBe(2);
  });

  it('runs another writer just before a chosen request', async () => {
    const { server, octokit } = await start();
    const base = await server.head();
    server.before({ method: 'PATCH', path: /\/git\/refs\/heads\/main$/ }, async () => {
      await server.commitAs({ 'README.md': 'raced\n' });
    });
    const { data: commit } = await octokit.rest.git.getCommit({ ...repo, commit_sha: base });
    const { data: mine } = await octokit.rest.git.createCommit({
      ...repo,
      message: 'mine',
      tree: commit.tree.sha,
      parents: [base],
    });

    const status = await statusOf(octokit.rest.git.updateRef({ ...repo, ref: 'heads/main', sha: mine.sha }));

    expect(status).toBe(422);
    expect(await server.readFile('README.md')).toBe('raced\n');
  });

  it('counts requests: total, content-creating, conflicts and per route', async () => {
    const { server, octokit } = await start();
    await octokit.rest.repos.getBranch({ ...repo, branch: 'main' });
    await octokit.rest.git.createBlob({ ...repo, content: 'x' });
    await statusOf(octokit.rest.git.updateRef({ ...repo, ref: 'heads/main', sha: '1'.repeat(40) }));

    expect(server.stats).toMatchObject({ total: 3, contentCreating: 2, conflicts: 1 });
    expect(server.stats.byRoute).toEqual({
      'GET /repos/{owner}/{repo}/branches/{branch}': 1,
      'POST /repos/{owner}/{repo}/git/blobs': 1,
      'PATCH /repos/{owner}/{repo}/git/refs/{ref}': 1,
    });
    server.resetStats();
    expect(server.stats).toMatchObject({ total: 0, contentCreating: 0, requests: [] });
  });

  it('serves the same API under GitHub Enterprise paths', async () => {
    const { server } = await start();
    const enterprise = new Octokit({ baseUrl: server.enterpriseUrl, auth: TOKEN, log: quiet });

    const { data } = await enterprise.rest.repos.getBranch({ ...repo, branch: 'main' });

    expect(data.commit.sha).toBe(await server.head());
  });

  it('answers a body that is not JSON with 400 Problems parsing JSON, and another repository with 404', async () => {
    const { server } = await start();
    const post = (path: string, body: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
        body,
      });

    const badJson = await post(`/repos/${OWNER}/${REPO}/git/blobs`, '{"content":');
    const otherRepo = await post(`/repos/${OWNER}/another-repo/git/blobs`, '{"content":"x"}');
    const sameRepoOtherCase = await fetch(`${server.url}/repos/${OWNER.toUpperCase()}/${REPO}`, {
      headers: { authorization: `token ${TOKEN}` },
    });

    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toEqual({
      message: 'Problems parsing JSON',
      documentation_url: 'https://docs.github.com/rest',
      status: '400',
    });
    expect(otherRepo.status).toBe(404);
    expect(sameRepoOtherCase.status).toBe(200);
    expect(server.stats.byRoute).toMatchObject({
      'POST /repos/{owner}/{repo}/git/blobs': 1,
      [`POST /repos/${OWNER}/another-repo/git/blobs`]: 1,
    });
  });

  it('serves an existing repository in place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shiplane-repo-'));
    try {
      const git = (...args: string[]) => promisify(execFile)('git', ['-C', dir, ...args]);
      await git('init', '--quiet', '--initial-branch=main');
      await writeFile(join(dir, 'kustomization.yaml'), 'images: []\n');
      await git('add', '.');
      await git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'seed');
      const { octokit } = await start({ seed: undefined, repoDir: dir });

      const { data } = await octokit.rest.repos.getContent({ ...repo, path: 'kustomization.yaml' });

      expect((data as { name: string }).name).toBe('kustomization.yaml');
    } finally {
      await server?.close();
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
