import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { GitHubServer } from '../../../../local/stand-ins/github/index.js';
import { connectGitHub } from '../../../../shared/adapters/github/client.js';
import { GitHubAuthError, GitHubRequestError } from '../../../../shared/adapters/github/errors.js';
import { githubPullRequests, nextPageUrl } from '../../../../shared/adapters/github/pull-requests.js';
import { githubRepository } from '../../../../shared/adapters/github/repository.js';
import { TerminalError } from '../../../../shared/errors.js';
import { GitHubUnavailableError } from '../../../../shared/ports/gitops-repository.js';
import {
  connect,
  PRODUCTION,
  REPOSITORY,
  STAGING,
  startItdoGitHub,
  TOKEN,
} from '../../steps/commit/support.js';

let server: GitHubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const BRANCH = 'shiplane/backend/production/v2.1.6';

async function setUp(options: Parameters<typeof connect>[1] = {}) {
  server = await startItdoGitHub({ collaborators: ['alice', 'bob'] });
  const github = await connect(server, options);
  const settings = { credentials: github.credentials, apiUrl: github.apiUrl };
  const repository = githubRepository(github.octokit, REPOSITORY, settings);
  const pulls = githubPullRequests(github.octokit, REPOSITORY, settings);

  /** A commit on main's head (or `parent`) setting `files`, not on any branch yet. */
  const commitOnMain = async (files: Record<string, string>, message = 'Promote backend v2.1.6\n') => {
    const head = await repository.branchHead('main');
    return repository.createCommit(
      head,
      Object.entries(files).map(([path, content]) => ({ path, content })),
      message,
    );
  };
  /** The release branch with one commit editing production, opened as a pull request. */
  const openRelease = async (branch = BRANCH, content = 'images: [backend v2.1.6]\n') => {
    await pulls.putBranch(branch, await commitOnMain({ [PRODUCTION]: content }));
    return pulls.open({
      head: branch,
      base: 'main',
      title: 'Promote backend v2.1.6 to production',
      body: 'facts',
    });
  };
  return { server, pulls, repository, commitOnMain, openRelease };
}

const tree = async (server: GitHubServer, revision: string) =>
  (await server.git('rev-parse', `${revision}^{tree}`)).trim();
const parents = async (server: GitHubServer, revision: string) =>
  (await server.git('log', '-1', '--format=%P', revision)).trim().split(' ');

describe('githubPullRequests', () => {
  it('creates a branch (201), and moves an existing one there even when it is no fast-forward', async () => {
    const { server, pulls, commitOnMain } = await setUp();
    const first = await commitOnMain({ [PRODUCTION]: 'one\n' });
    const second = await commitOnMain({ [PRODUCTION]: 'two\n' });

    await pulls.putBranch(BRANCH, first);
    await pulls.putBranch(BRANCH, second);

    expect(await server.head(BRANCH)).toBe(second);
    expect(
      server.stats.requests.filter((r) => r.route.includes('/git/refs')).map((r) => `${r.route} ${r.status}`),
    ).toEqual([
      'POST /repos/{owner}/{repo}/git/refs 201',
      'POST /repos/{owner}/{repo}/git/refs 422',
      'PATCH /repos/{owner}/{repo}/git/refs/{ref} 200',
    ]);
  });

  it('deletes a branch (204), and a branch already gone is no error (422 "Reference does not exist")', async () => {
    const { server, pulls, commitOnMain } = await setUp();
    await pulls.putBranch(BRANCH, await commitOnMain({ [PRODUCTION]: 'one\n' }));

    await pulls.deleteBranch(BRANCH);
    await pulls.deleteBranch(BRANCH);

    await expect(server.head(BRANCH)).rejects.toThrow(/does not exist/);
    expect(server.stats.byRoute['DELETE /repos/{owner}/{repo}/git/refs/{ref}']).toBe(2);
    expect(server.stats.byStatus).toMatchObject({ '204': 1, '422': 1 });
  });

  it('opens a pull request (201) and answers the open one when asked again (422 "already exists")', async () => {
    const { server, pulls, openRelease } = await setUp();

    const opened = await openRelease();
    const again = await pulls.open({
      head: BRANCH,
      base: 'main',
      title: 'Promote backend v2.1.6 to production',
      body: 'facts',
    });

    expect(opened).toEqual({
      number: 1,
      url: 'https://github.com/itdo-erp/itdo-erp-infrastructure/pull/1',
      head: BRANCH,
      headCommit: await server.head(BRANCH),
      base: 'main',
    });
    expect(again).toEqual(opened);
    expect(
      server.stats.requests.filter((r) => r.route.includes('/pulls')).map((r) => `${r.route} ${r.status}`),
    ).toEqual([
      'POST /repos/{owner}/{repo}/pulls 201',
      'POST /repos/{owner}/{repo}/pulls 422',
      'GET /repos/{owner}/{repo}/pulls 200',
    ]);
    const stored = await server.pullRequest(1);
    expect(stored).toMatchObject({
      title: 'Promote backend v2.1.6 to production',
      body: 'facts',
      author: 'api-user',
    });
  });

  it('asks reviewers, and an unknown reviewer does not stop the pull request from being opened', async () => {
    const { server, pulls, commitOnMain } = await setUp();
    const commit = await commitOnMain({ [PRODUCTION]: 'one\n' });
    await pulls.putBranch(BRANCH, commit);
    await pulls.putBranch('shiplane/frontend/production/v1.9.0', commit);

    const known = await pulls.open({
      head: BRANCH,
      base: 'main',
      title: 't',
      body: 'b',
      reviewers: ['alice', 'bob'],
    });
    const unknown = await pulls.open({
      head: 'shiplane/frontend/production/v1.9.0',
      base: 'main',
      title: 't',
      body: 'b',
      reviewers: ['alice', 'nobody-here'],
    });

    expect((await server.pullRequest(known.number)).reviewers).toEqual(['alice', 'bob']);
    expect(unknown.number).toBe(2);
    expect(known.reviewersNotRequested).toBeUndefined();
    expect(unknown.reviewersNotRequested).toMatch(/^Reviews may only be requested from collaborators/);
    expect((await server.pullRequest(2)).state).toBe('open');
    expect(
      server.stats.requests.filter((r) => r.route.endsWith('requested_reviewers')).map((r) => r.status),
    ).toEqual([201, 422]);
  });

  it('reads an open pull request: still computing, mergeable and clean, blocked while checks are pending, dirty on a conflict', async () => {
    const { server, pulls, openRelease } = await setUp();
    const { number } = await openRelease();

    server.mergeabilityPending(1);
    const computing = await pulls.get(number);
    const clean = await pulls.get(number);
    const release = server.holdChecks('build');
    const blocked = await pulls.get(number);
    release();
    await server.pushConflict(number);
    const dirty = await pulls.get(number);

    expect(clean).toMatchObject({
      title: 'Promote backend v2.1.6 to production',
      status: { state: 'open', mergeable: true, mergeableState: 'clean' },
    });
    expect(computing.status).toEqual({ state: 'open', mergeable: null, mergeableState: 'unknown' });
    expect(blocked.status).toEqual({ state: 'open', mergeable: true, mergeableState: 'blocked' });
    expect(dirty.status).toEqual({ state: 'open', mergeable: false, mergeableState: 'dirty' });
  });

  it('squash-merges (200): one new commit on the base with the combined tree, and reads it merged', async () => {
    const { server, pulls, openRelease } = await setUp();
    const pull = await openRelease();
    const other = await server.commitAs({ [STAGING]: 'staging moved on\n' });

    const answer = await pulls.merge(pull.number, 'squash', pull.headCommit);
    const read = await pulls.get(pull.number);

    expect(answer).toEqual({ merged: true, commit: await server.head() });
    expect(await parents(server, 'main')).toEqual([other]);
    expect(await server.readFile(PRODUCTION)).toBe('images: [backend v2.1.6]\n');
    expect(await server.readFile(STAGING)).toBe('staging moved on\n');
    expect((await server.git('log', '-1', '--format=%s', 'main')).trim()).toBe(
      'Promote backend v2.1.6 to production (#1)',
    );
    expect(read.status).toEqual({
      state: 'merged',
      mergeCommit: answer.merged && answer.commit,
      mergedBy: 'api-user',
    });
  });

  it('merges with a merge commit of two parents, base and head', async () => {
    const { server, pulls, openRelease } = await setUp();
    const base = await server.head();
    const pull = await openRelease();

    const answer = await pulls.merge(pull.number, 'merge', pull.headCommit);

    expect(answer.merged).toBe(true);
    expect(await parents(server, 'main')).toEqual([base, pull.headCommit]);
    expect(await tree(server, 'main')).toBe(await tree(server, pull.headCommit));
  });

  it('rebase-merges a one-commit pull request into one new commit on the moved base, author kept', async () => {
    const { server, pulls, openRelease } = await setUp();
    const pull = await openRelease();
    const other = await server.commitAs({ [STAGING]: 'staging moved on\n' });

    const answer = await pulls.merge(pull.number, 'rebase', pull.headCommit);

    expect(answer).toEqual({ merged: true, commit: await server.head() });
    expect(await parents(server, 'main')).toEqual([other]);
    expect(await server.readFile(PRODUCTION)).toBe('images: [backend v2.1.6]\n');
    expect(await server.readFile(STAGING)).toBe('staging moved on\n');
    const [subject, author] = (await server.git('log', '-1', '--format=%s%n%an', 'main')).trim().split('\n');
    expect(subject).toBe('Promote backend v2.1.6');
    expect(author).toBe((await server.git('log', '-1', '--format=%an', pull.headCommit)).trim());
  });

  it('answers 405 as not mergeable (checks pending, conflict) and 409 as head changed, moving nothing', async () => {
    const { server, pulls, openRelease } = await setUp();
    const pull = await openRelease();
    const base = await server.head();

    const release = server.holdChecks();
    const pending = await pulls.merge(pull.number, 'squash', pull.headCommit);
    release();
    const moved = await server.commitAs({ 'extra.txt': 'pushed by a person\n' }, { branch: BRANCH });
    const stale = await pulls.merge(pull.number, 'squash', pull.headCommit);
    const conflict = await server.pushConflict(pull.number);
    const dirty = await pulls.merge(pull.number, 'squash', moved);

    expect(pending).toEqual({
      merged: false,
      reason: 'not-mergeable',
      detail: 'Required status check "ci" is expected.',
    });
    expect(stale).toEqual({
      merged: false,
      reason: 'head-changed',
      detail: 'Head branch was modified. Review and try the merge again.',
    });
    expect(dirty).toEqual({
      merged: false,
      reason: 'not-mergeable',
      detail: 'Pull Request is not mergeable',
    });
    expect(await server.head()).toBe(conflict);
    expect(await parents(server, conflict)).toEqual([base]);
    // 405 and 409 are answers: none is retried.
    expect(server.stats.byRoute['PUT /repos/{owner}/{repo}/pulls/{number}/merge']).toBe(3);
  });

  it('reads a pull request a person merged, and one a person closed, naming them', async () => {
    const { server, pulls, openRelease } = await setUp();
    const merged = await openRelease();
    const closed = await openRelease('shiplane/frontend/production/v1.9.0', 'frontend\n');

    const commit = await server.mergePullRequest(merged.number, { by: 'alice', method: 'squash' });
    await server.closePullRequest(closed.number, { by: 'bob' });

    expect((await pulls.get(merged.number)).status).toEqual({
      state: 'merged',
      mergeCommit: commit,
      mergedBy: 'alice',
    });
    expect((await pulls.get(closed.number)).status).toEqual({ state: 'closed', closedBy: 'bob' });
    expect(server.stats.byRoute['GET /repos/{owner}/{repo}/issues/{number}']).toBe(1);
  });

  it('closes with a comment once: a second close neither comments again nor fails', async () => {
    const { server, pulls, openRelease } = await setUp();
    const { number } = await openRelease();

    await pulls.close(number, 'Superseded by #2');
    await pulls.close(number, 'Superseded by #2');

    expect(await pulls.comments(number)).toEqual([{ author: 'api-user', body: 'Superseded by #2' }]);
    expect((await pulls.get(number)).status).toEqual({ state: 'closed', closedBy: 'api-user' });
    expect(server.stats.byRoute['PATCH /repos/{owner}/{repo}/pulls/{number}']).toBe(1);
    expect(server.stats.byRoute['POST /repos/{owner}/{repo}/issues/{number}/comments']).toBe(1);
  });

  it('reads every page of comments, oldest first', async () => {
    const { server, pulls, openRelease } = await setUp();
    const { number } = await openRelease();
    await pulls.comment(number, 'note 1');
    // The rest straight over HTTP, one after another (the client would space notifying requests).
    for (let i = 2; i <= 103; i++) {
      const response = await fetch(`${server.url}/repos/${REPOSITORY}/issues/${number}/comments`, {
        method: 'POST',
        headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body: `note ${i}` }),
      });
      expect(response.status).toBe(201);
    }

    const comments = await pulls.comments(number);

    expect(comments).toHaveLength(103);
    expect(comments[0]).toEqual({ author: 'api-user', body: 'note 1' });
    expect(comments.at(-1)).toEqual({ author: 'api-user', body: 'note 103' });
    expect(server.stats.byRoute['GET /repos/{owner}/{repo}/issues/{number}/comments']).toBe(2);
  });

  it('lists the open pull requests of a head prefix over every page', async () => {
    const { server, pulls, commitOnMain } = await setUp();
    const commit = await commitOnMain({ [PRODUCTION]: 'one\n' });
    // 104 release branches of backend and one of frontend, all at one commit (git allows it).
    for (let i = 0; i < 104; i++)
      await server.git('update-ref', `refs/heads/shiplane/backend/production/v${i}`, commit);
    await server.git('update-ref', 'refs/heads/shiplane/frontend/production/v1', commit);
    for (let i = 0; i < 104; i++) {
      await pulls.open({ head: `shiplane/backend/production/v${i}`, base: 'main', title: `v${i}`, body: '' });
    }
    const frontend = await pulls.open({
      head: 'shiplane/frontend/production/v1',
      base: 'main',
      title: 'f',
      body: '',
    });
    await pulls.close(1);

    const open = await pulls.listOpen('main', 'shiplane/backend/production/');

    expect(open).toHaveLength(103);
    expect(new Set(open.map((pull) => pull.number)).size).toBe(103);
    expect(open.map((pull) => pull.number)).not.toContain(1);
    expect(open.map((pull) => pull.number)).not.toContain(frontend.number);
    expect(
      open.every(
        (pull) => pull.head.startsWith('shiplane/backend/production/') && pull.headCommit === commit,
      ),
    ).toBe(true);
    expect(await pulls.listOpen('release', 'shiplane/')).toEqual([]);
    expect(server.stats.byRoute['GET /repos/{owner}/{repo}/pulls']).toBe(3);
  }, 120_000);

  it('reports GitHub down (5xx after the retries) as worth trying later', async () => {
    const { server, pulls, openRelease } = await setUp({ retries: 1 });
    const { number } = await openRelease();
    server.inject({ kind: 'bad-gateway', path: `/pulls/${number}`, times: 5 });

    const error = await pulls.get(number).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitHubUnavailableError);
    expect(error).not.toBeInstanceOf(TerminalError);
  });

  it('reports bad credentials (401) as a terminal error naming the secret', async () => {
    const { pulls } = await setUp({ token: 'ghp_revoked' });

    const error = (await pulls.listOpen('main', 'shiplane/').catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(GitHubAuthError);
    expect(error.message).toMatch(/401 Bad credentials\): check the token in secret:shiplane\/github-token$/);
  });

  it('refuses to open a pull request without commits, as a terminal error', async () => {
    const { server, pulls } = await setUp();
    await pulls.putBranch(BRANCH, await server.head());

    const error = (await pulls
      .open({ head: BRANCH, base: 'main', title: 't', body: '' })
      .catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(TerminalError);
    expect(error.message).toContain(`No commits between main and ${BRANCH}`);
  });
});

describe('nextPageUrl', () => {
  const api = 'https://ghe.example.com/api/v3';

  it('reads rel="next" from a Link header, and nothing when there is none', () => {
    const link = `<${api}/repos/o/r/pulls?page=2>; rel="next", <${api}/repos/o/r/pulls?page=5>; rel="last"`;

    expect(nextPageUrl(link, api)).toBe(`${api}/repos/o/r/pulls?page=2`);
    expect(nextPageUrl(`<${api}/repos/o/r/pulls?page=1>; rel="prev"`, api)).toBeUndefined();
    expect(nextPageUrl(undefined, api)).toBeUndefined();
  });

  it('makes listOpen fail as a terminal error when GitHub points the next page elsewhere', async () => {
    // A server whose Link header sends the client (and its token) to another host.
    const seen: string[] = [];
    const evil = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, {
        'content-type': 'application/json',
        link: '<http://127.0.0.2:9/repos/o/r/pulls?page=2>; rel="next"',
      });
      res.end('[]');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = evil.address() as AddressInfo;
      const github = await connectGitHub(
        { apiUrl: `http://127.0.0.1:${port}`, token: { source: 'secret', name: 't' } },
        { resolveSecret: async () => 'ghp_x', retries: 0, minWriteIntervalMs: 0 },
      );

      const error = await githubPullRequests(github.octokit, 'o/r')
        .listOpen('main', 'shiplane/')
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(GitHubRequestError);
      expect(seen).toEqual(['/repos/o/r/pulls?state=open&base=main&per_page=100']);
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it('refuses a next page on another origin (the credentials go with it)', () => {
    expect(() => nextPageUrl('<https://elsewhere.example/steal?page=2>; rel="next"', api)).toThrow(
      "GitHub's next page https://elsewhere.example/steal?page=2 is not on https://ghe.example.com; not following it",
    );
  });
});
