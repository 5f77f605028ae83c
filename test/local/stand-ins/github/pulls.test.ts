/** The GitHub stand-in's pull-request and issue routes, where the adapter's tests do not reach. */
import { Octokit } from '@octokit/rest';
import { afterEach, describe, expect, it } from 'vitest';
import { type GitHubServer, startGitHubServer } from '../../../../local/stand-ins/github/index.js';

const OWNER = 'itdo-erp';
const REPO = 'itdo-erp-infrastructure';
const TOKEN = 'ghp_stand_in_token';
const repo = { owner: OWNER, repo: REPO };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const FILE = 'environments/production/kustomization.yaml';

let server: GitHubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start() {
  server = await startGitHubServer({
    owner: OWNER,
    repo: REPO,
    token: TOKEN,
    collaborators: ['alice'],
    seed: { [FILE]: 'images:\n  - name: backend\n    newTag: v1\n', 'README.md': '# infra\n' },
  });
  const octokit = new Octokit({ baseUrl: server.url, auth: TOKEN, log: quiet });
  /** A branch off main with the given commits (each a file map), and a pull request for it. */
  const propose = async (branch: string, ...commits: Record<string, string>[]) => {
    await octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha: await server!.head() });
    for (const files of commits)
      await server!.commitAs(files, { branch, message: `Edit ${Object.keys(files)[0]}\n` });
    return (
      await octokit.rest.pulls.create({ ...repo, head: branch, base: 'main', title: `Promote ${branch}` })
    ).data;
  };
  return { server, octokit, propose };
}

/** The HTTP status and body of a request that may fail. */
const answer = async (promise: Promise<{ status: number; data: unknown }>) => {
  try {
    const { status, data } = await promise;
    return { status, data };
  } catch (error) {
    const { status, response } = error as { status: number; response?: { data: unknown } };
    return { status, data: response?.data };
  }
};

describe('GitHub stand-in: pull requests', () => {
  it('creates a pull request with GitHub’s fields, and refuses a second open one for the same head', async () => {
    const { server, octokit, propose } = await start();
    const pull = await propose('release/v2', { [FILE]: 'images:\n  - name: backend\n    newTag: v2\n' });

    const duplicate = await answer(
      octokit.rest.pulls.create({ ...repo, head: `${OWNER}:release/v2`, base: 'main', title: 'again' }),
    );

    expect(pull).toMatchObject({
      number: 1,
      state: 'open',
      html_url: `https://github.com/${OWNER}/${REPO}/pull/1`,
      head: {
        ref: 'release/v2',
        label: `${OWNER}:release/v2`,
        sha: await server.head('release/v2'),
        repo: { full_name: `${OWNER}/${REPO}` },
      },
      base: { ref: 'main', sha: await server.head() },
      merged: false,
      mergeable: true,
      mergeable_state: 'clean',
      user: { login: 'api-user' },
    });
    expect(duplicate).toEqual({
      status: 422,
      data: {
        message: 'Validation Failed',
        errors: [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${OWNER}:release/v2.`,
          },
        ],
        documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
        status: '422',
      },
    });
  });

  it('refuses a pull request without commits, with a missing head, or with a body over 65,536 characters', async () => {
    const { server, octokit } = await start();
    await octokit.rest.git.createRef({ ...repo, ref: 'refs/heads/empty', sha: await server.head() });
    await server.commitAs({ 'a.txt': 'a\n' }, { branch: 'empty' });
    await octokit.rest.git.createRef({ ...repo, ref: 'refs/heads/same', sha: await server.head() });

    const none = await answer(octokit.rest.pulls.create({ ...repo, head: 'same', base: 'main', title: 't' }));
    const missing = await answer(
      octokit.rest.pulls.create({ ...repo, head: 'nope', base: 'main', title: 't' }),
    );
    const long = await answer(
      octokit.rest.pulls.create({
        ...repo,
        head: 'empty',
        base: 'main',
        title: 't',
        body: 'x'.repeat(65_537),
      }),
    );

    expect(none).toMatchObject({
      status: 422,
      data: { errors: [{ message: 'No commits between main and same' }] },
    });
    expect(missing).toMatchObject({ status: 422, data: { errors: [{ field: 'head', code: 'invalid' }] } });
    expect(long).toMatchObject({
      status: 422,
      data: { errors: [{ message: 'body is too long (maximum is 65536 characters)' }] },
    });
  });

  it('lists in pages with a Link header, filtered by state, head and base', async () => {
    const { octokit, propose } = await start();
    for (let i = 1; i <= 3; i++) await propose(`b${i}`, { [`f${i}.txt`]: `${i}\n` });
    await octokit.rest.pulls.update({ ...repo, pull_number: 2, state: 'closed' });

    const first = await octokit.rest.pulls.list({ ...repo, state: 'all', per_page: 2 });
    const second = await octokit.rest.pulls.list({ ...repo, state: 'all', per_page: 2, page: 2 });
    const open = await octokit.rest.pulls.list({ ...repo, base: 'main' });
    const byHead = await octokit.rest.pulls.list({ ...repo, head: `${OWNER}:b3` });

    expect(first.data.map((pull) => pull.number)).toEqual([3, 2]);
    expect(first.headers.link).toBe(
      `<${server!.url}/repos/${OWNER}/${REPO}/pulls?state=all&per_page=2&page=2>; rel="next", <${server!.url}/repos/${OWNER}/${REPO}/pulls?state=all&per_page=2&page=2>; rel="last"`,
    );
    expect(second.data.map((pull) => pull.number)).toEqual([1]);
    expect(second.headers.link).toContain('rel="prev"');
    expect(open.data.map((pull) => pull.number)).toEqual([3, 1]);
    expect(byHead.data.map((pull) => pull.number)).toEqual([3]);
  });

  it('merges: 200 with the sha; a stale sha is 409; a merged or closed one is 405', async () => {
    const { server, octokit, propose } = await start();
    const pull = await propose('release/v2', { [FILE]: 'images:\n  - name: backend\n    newTag: v2\n' });
    const closed = await propose('other', { 'x.txt': 'x\n' });
    await octokit.rest.pulls.update({ ...repo, pull_number: closed.number, state: 'closed' });

    const stale = await answer(octokit.rest.pulls.merge({ ...repo, pull_number: 1, sha: '0'.repeat(40) }));
    const merged = await answer(
      octokit.rest.pulls.merge({ ...repo, pull_number: 1, sha: pull.head.sha, merge_method: 'squash' }),
    );
    const again = await answer(octokit.rest.pulls.merge({ ...repo, pull_number: 1 }));
    const ofClosed = await answer(octokit.rest.pulls.merge({ ...repo, pull_number: closed.number }));
    const read = (await octokit.rest.pulls.get({ ...repo, pull_number: 1 })).data;

    expect(stale).toMatchObject({
      status: 409,
      data: { message: 'Head branch was modified. Review and try the merge again.' },
    });
    expect(merged).toEqual({
      status: 200,
      data: { sha: await server.head(), merged: true, message: 'Pull Request successfully merged' },
    });
    expect(again).toMatchObject({ status: 405, data: { message: 'Pull Request is not mergeable' } });
    expect(ofClosed).toMatchObject({ status: 405, data: { message: 'Pull Request is not mergeable' } });
    expect(read).toMatchObject({
      state: 'closed',
      merged: true,
      merge_commit_sha: await server.head(),
      merged_by: { login: 'api-user' },
    });
  });

  it('rebase replays every commit of the head on the base, authors kept', async () => {
    const { server, octokit, propose } = await start();
    const base = await server.head();
    await propose('two', { 'a.txt': 'a\n' }, { 'b.txt': 'b\n' });

    const { data } = await octokit.rest.pulls.merge({ ...repo, pull_number: 1, merge_method: 'rebase' });

    const log = await server.log('main', 3);
    expect(log.map((commit) => commit.message)).toEqual(['Edit b.txt', 'Edit a.txt', 'Initial commit']);
    expect(log[2]!.sha).toBe(base);
    expect(log[0]!.sha).toBe(data.sha);
    expect(log.slice(0, 2).map((commit) => [commit.author.name, commit.committer.name])).toEqual([
      ['Another Writer', 'GitHub'],
      ['Another Writer', 'GitHub'],
    ]);
  });

  it('is clean when base and head changed different lines of one file, dirty on a conflict', async () => {
    const { server, octokit, propose } = await start();
    await propose('v2', { [FILE]: 'images:\n  - name: backend\n    newTag: v2\n' });
    await server.commitAs({ [FILE]: '# production\nimages:\n  - name: backend\n    newTag: v1\n' });
    const clean = (await octokit.rest.pulls.get({ ...repo, pull_number: 1 })).data;
    await server.pushConflict(1);
    const dirty = (await octokit.rest.pulls.get({ ...repo, pull_number: 1 })).data;

    expect([clean.mergeable, clean.mergeable_state]).toEqual([true, 'clean']);
    expect([dirty.mergeable, dirty.mergeable_state]).toEqual([false, 'dirty']);
    const merged = await octokit.rest.pulls
      .merge({ ...repo, pull_number: 1 })
      .catch((error: { status: number }) => error);
    expect(merged.status).toBe(405);
    await expect(server.mergePullRequest(1, { by: 'alice' })).rejects.toThrow(
      'Pull Request is not mergeable',
    );
  });

  it('holds required checks: blocked, merge 405 naming the check, until released', async () => {
    const { server, octokit, propose } = await start();
    await propose('v2', { 'a.txt': 'a\n' });

    const release = server.holdChecks('build');
    const blocked = (await octokit.rest.pulls.get({ ...repo, pull_number: 1 })).data;
    const refused = await answer(octokit.rest.pulls.merge({ ...repo, pull_number: 1 }));
    release();
    const merged = await answer(octokit.rest.pulls.merge({ ...repo, pull_number: 1 }));

    expect(blocked.mergeable_state).toBe('blocked');
    expect(refused).toMatchObject({
      status: 405,
      data: { message: 'Required status check "build" is expected.' },
    });
    expect(merged.status).toBe(200);
  });

  it('says on the issue who closed it, and who merged it; comments come back oldest first', async () => {
    const { server, octokit, propose } = await start();
    await propose('a', { 'a.txt': 'a\n' });
    await propose('b', { 'b.txt': 'b\n' });
    await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'first' });
    await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'second' });

    await server.closePullRequest(1, { by: 'bob' });
    await server.mergePullRequest(2, { by: 'alice', method: 'merge' });
    const closedIssue = (await octokit.rest.issues.get({ ...repo, issue_number: 1 })).data;
    const mergedIssue = (await octokit.rest.issues.get({ ...repo, issue_number: 2 })).data;
    const comments = (await octokit.rest.issues.listComments({ ...repo, issue_number: 1 })).data;
    const emptyComment = await answer(
      octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: '' }),
    );
    const noIssue = await answer(octokit.rest.issues.get({ ...repo, issue_number: 9 }));

    expect(closedIssue).toMatchObject({
      state: 'closed',
      closed_by: { login: 'bob' },
      pull_request: { merged_at: null },
    });
    expect(mergedIssue).toMatchObject({ state: 'closed', closed_by: { login: 'alice' } });
    expect(mergedIssue.pull_request?.merged_at).toMatch(/Z$/);
    expect(comments.map((comment) => [comment.user?.login, comment.body])).toEqual([
      ['api-user', 'first'],
      ['api-user', 'second'],
    ]);
    expect(emptyComment.status).toBe(422);
    expect(noIssue.status).toBe(404);
    expect((await server.log('main', 1))[0]!.parents).toHaveLength(2);
  });

  it('closes, reopens, and closes a pull request whose head branch is deleted; ref deletes are 204 then 422', async () => {
    const { octokit, propose } = await start();
    await propose('v2', { 'a.txt': 'a\n' });

    const closed = (await octokit.rest.pulls.update({ ...repo, pull_number: 1, state: 'closed' })).data;
    const reopened = (await octokit.rest.pulls.update({ ...repo, pull_number: 1, state: 'open' })).data;
    const deleted = await answer(octokit.rest.git.deleteRef({ ...repo, ref: 'heads/v2' }));
    const gone = await answer(octokit.rest.git.deleteRef({ ...repo, ref: 'heads/v2' }));
    const after = (await octokit.rest.pulls.get({ ...repo, pull_number: 1 })).data;
    const cannotReopen = await answer(octokit.rest.pulls.update({ ...repo, pull_number: 1, state: 'open' }));
    const badState = await answer(
      octokit.rest.pulls.update({ ...repo, pull_number: 1, state: 'merged' as 'open' }),
    );

    expect(closed.state).toBe('closed');
    expect(reopened.state).toBe('open');
    expect(deleted.status).toBe(204);
    expect(gone).toMatchObject({ status: 422, data: { message: 'Reference does not exist' } });
    expect(after).toMatchObject({ state: 'closed', merged: false });
    expect(cannotReopen.status).toBe(422);
    expect(badState.status).toBe(422);
  });

  it('requests reviews from collaborators only, never from the author', async () => {
    const { octokit, propose } = await start();
    await propose('v2', { 'a.txt': 'a\n' });

    const ok = await answer(
      octokit.rest.pulls.requestReviewers({ ...repo, pull_number: 1, reviewers: ['alice'] }),
    );
    const stranger = await answer(
      octokit.rest.pulls.requestReviewers({ ...repo, pull_number: 1, reviewers: ['mallory'] }),
    );
    const author = await answer(
      octokit.rest.pulls.requestReviewers({ ...repo, pull_number: 1, reviewers: ['api-user'] }),
    );

    expect(ok).toMatchObject({ status: 201, data: { requested_reviewers: [{ login: 'alice' }] } });
    expect(stranger).toMatchObject({
      status: 422,
      data: { message: expect.stringMatching(/^Reviews may only be requested from collaborators/) },
    });
    expect(author).toMatchObject({
      status: 422,
      data: { message: 'Review cannot be requested from pull request author.' },
    });
  });
});
