/**
 * The pull-request step against the ports, in memory: what `open` proposes and closes, and every
 * answer `check` gives (merged, rejected naming who, expired and closed, superseded, conflict
 * rebuilt, waiting in manual mode), with what the repository holds afterwards.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../../shared/config/schema.js';
import {
  type PullRequestAnswer,
  type PullRequestInput,
  pullRequestAnswerSchema,
  type Release,
} from '../../../../shared/contracts/tasks.js';
import { readKustomizeImage, setKustomizeImage } from '../../../../shared/domain/kustomize-image.js';
import { GitHubUnavailableError } from '../../../../shared/ports/gitops-repository.js';
import { type PullRequestDeps, pullRequestTask } from '../../../../shared/steps/pull-request/pull-request.js';
import { recordingReporter } from '../../../fixtures/slack/context.js';
import { configWith } from '../../../infra/support.js';
import { BOT, InMemoryGitHub } from './in-memory-github.js';

const REPOSITORY = 'itdo-erp/itdo-erp-infrastructure';
const PRODUCTION = 'environments/production/kustomization.yaml';
const STAGING = 'environments/staging/kustomization.yaml';
const fixture = (path: string) =>
  readFileSync(new URL(`../../../fixtures/gitops/itdo-erp-infrastructure/${path}`, import.meta.url), 'utf8');
const OPENED = new Date('2026-12-02T10:00:00Z');

type PullRequestSettings = NonNullable<ConfigInput['stages'][number]['pullRequest']>;

function setup(pullRequest: PullRequestSettings = { merge: 'auto' }) {
  const github = new InMemoryGitHub(REPOSITORY, {
    [PRODUCTION]: fixture(PRODUCTION),
    [STAGING]: fixture(STAGING),
  });
  const config = configWith((input) => ({
    ...input,
    stages: input.stages.map((stage) => (stage.name === 'production' ? { ...stage, pullRequest } : stage)),
  }));
  let now = OPENED;
  const reporter = recordingReporter();
  const deps: PullRequestDeps = {
    config,
    github: async (fullName) => {
      expect(fullName).toBe(REPOSITORY);
      return { repository: github.repository(), pullRequests: github.pullRequests() };
    },
    reporter,
    now: () => now,
  };
  return {
    github,
    reporter,
    deps,
    later: (seconds: number) => {
      now = new Date(OPENED.getTime() + seconds * 1000);
    },
  };
}

function release(tag: string, hex = 'b'): Release {
  return {
    app: 'backend',
    ecrRepository: 'itdo-erp/backend',
    image: 'itdo-erp/backend',
    tag,
    digest: `sha256:${hex.repeat(64)}`,
    registryId: '123456789012',
    region: 'eu-west-1',
    pushedAt: '2026-12-02T09:00:00Z',
  };
}

const fields = (tag: string, hex?: string) => ({
  execution: `backend-${tag}-run`,
  stage: 'production',
  release: release(tag, hex),
  edit: 'promotion' as const,
});

const openInput = (
  tag: string,
  extra: Partial<Extract<PullRequestInput, { action: 'open' }>> = {},
  hex?: string,
) => ({ action: 'open', ...fields(tag, hex), ...extra }) as PullRequestInput;
const checkInput = (tag: string, pullRequest: PullRequestAnswer, hex?: string): PullRequestInput => ({
  action: 'check',
  ...fields(tag, hex),
  pullRequest,
});

const backendIn = (text: string | undefined) =>
  readKustomizeImage(PRODUCTION, text ?? '', 'itdo-erp/backend');

describe('open', () => {
  it('commits the edit on shiplane/<app>/<stage>/<tag> and opens a pull request; the base branch is untouched', async () => {
    const { github, deps } = setup({ merge: 'auto', reviewers: ['erp-lead'], timeout: '2h' });
    const base = github.head('main');
    const approval = {
      decision: 'approved' as const,
      approvalId: 'a1',
      by: 'U0ALICE01',
      byName: 'Alice',
      at: '2026-12-02T09:59:00Z',
      via: 'slack' as const,
    };

    const answer = await pullRequestTask(openInput('v2.1.6', { approval }), deps);

    expect(pullRequestAnswerSchema.parse(answer)).toEqual(answer);
    expect(answer).toMatchObject({
      state: 'open',
      number: 1,
      branch: 'shiplane/backend/production/v2.1.6',
      base: 'main',
      repository: REPOSITORY,
      previousTag: 'v2.1.4',
      openedAt: OPENED.toISOString(),
      deadline: '2026-12-02T12:00:00.000Z',
      waitSeconds: 30,
    });
    expect(github.head('main')).toBe(base);
    expect(github.head('shiplane/backend/production/v2.1.6')).toBe(answer.headCommit);
    expect(backendIn(github.file(PRODUCTION, answer.headCommit))).toMatchObject({
      newTag: 'v2.1.6',
      digest: `sha256:${'b'.repeat(64)}`,
    });
    const pull = github.pull(1);
    expect(pull.title).toBe('Promote backend v2.1.6 to production');
    expect(pull.body).toContain(`sha256:${'b'.repeat(64)}`);
    expect(pull.body).toContain('Approved by Alice (`U0ALICE01`) at 2026-12-02T09:59:00Z via slack');
    expect(pull.body).toContain('backend-v2.1.6-run');
    expect(pull.reviewers).toEqual(['erp-lead']);
    // Only the stage's file changed, byte for byte elsewhere.
    const before = fixture(PRODUCTION);
    const after = github.file(PRODUCTION, answer.headCommit) ?? '';
    expect(after).toBe(
      setKustomizeImage(PRODUCTION, before, {
        image: 'itdo-erp/backend',
        tag: 'v2.1.6',
        digest: `sha256:${'b'.repeat(64)}`,
      }).content,
    );
  });

  it('answers unchanged, as the committer does, when the base already carries the release: nothing opened', async () => {
    const { github, deps } = setup();
    const seeded = fixture(PRODUCTION);
    const carrying = github.commitTo('main', {
      [PRODUCTION]: setKustomizeImage(PRODUCTION, seeded, {
        image: 'itdo-erp/backend',
        tag: 'v2.1.6',
        digest: `sha256:${'b'.repeat(64)}`,
      }).content,
    });
    github.commitTo('main', { 'README.md': 'unrelated' });

    const answer = await pullRequestTask(openInput('v2.1.6'), deps);

    expect(answer).toMatchObject({
      state: 'unchanged',
      commit: { commit: carrying, status: 'unchanged', previousTag: 'v2.1.6' },
    });
    expect(github.pulls).toEqual([]);
    expect(github.calls).not.toContain('putBranch');
  });

  it('answers superseded, opening nothing, when the base pins a newer release', async () => {
    const { github, deps } = setup();
    github.commitTo('main', {
      [PRODUCTION]: setKustomizeImage(PRODUCTION, fixture(PRODUCTION), {
        image: 'itdo-erp/backend',
        tag: 'v2.1.9',
        digest: `sha256:${'c'.repeat(64)}`,
      }).content,
    });

    const answer = await pullRequestTask(openInput('v2.1.6'), deps);

    expect(answer.state).toBe('superseded');
    expect(answer.message).toMatch(/was not deployed to production: v2\.1\.9 is already there/);
    expect(github.pulls).toEqual([]);
  });

  it('closes an older release’s open pull request as superseded by the new one, and deletes its branch', async () => {
    const { github, deps } = setup({ merge: 'manual' });
    await pullRequestTask(openInput('v2.1.6'), deps);

    const newer = await pullRequestTask(openInput('v2.1.7', {}, 'c'), deps);

    expect(newer).toMatchObject({ state: 'open', number: 2 });
    expect(github.pull(1).status).toEqual({ state: 'closed', closedBy: BOT });
    expect(github.pull(1).comments).toEqual([{ author: BOT, body: 'Superseded by #2 (v2.1.7).' }]);
    expect(github.branches.has('shiplane/backend/production/v2.1.6')).toBe(false);
    expect(github.pull(2).status.state).toBe('open');
  });

  it('opens nothing for an older release while a newer one’s pull request is open', async () => {
    const { github, deps } = setup({ merge: 'manual' });
    await pullRequestTask(openInput('v2.1.7', {}, 'c'), deps);

    const older = await pullRequestTask(openInput('v2.1.6'), deps);

    expect(older.state).toBe('superseded');
    expect(older.message).toMatch(/v2\.1\.7 is already there.*#1/);
    expect(github.pulls).toHaveLength(1);
    expect(github.pull(1).status.state).toBe('open');
  });

  it('refuses a stage without pullRequest, naming it', async () => {
    const { deps } = setup();

    await expect(pullRequestTask({ ...openInput('v2.1.6'), stage: 'staging' }, deps)).rejects.toThrow(
      'stage staging has no pullRequest in the config: it commits directly',
    );
  });
});

describe('check', () => {
  it('merge: auto merges a clean pull request at the proposed head and answers the committer’s result at the merge commit', async () => {
    const { github, deps } = setup({ merge: 'auto' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);

    const answer = await pullRequestTask(checkInput('v2.1.6', opened), deps);

    const head = github.head('main');
    expect(answer).toMatchObject({
      state: 'merged',
      number: 1,
      commit: { commit: head, status: 'committed', previousTag: 'v2.1.4', pullRequest: 1 },
    });
    expect(backendIn(github.file(PRODUCTION))?.newTag).toBe('v2.1.6');
    expect(github.branches.has('shiplane/backend/production/v2.1.6')).toBe(false);
  });

  it('merge: auto waits while GitHub computes, while reviews or checks block, and when the merge answers 405', async () => {
    const { github, deps, later } = setup({ merge: 'auto' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);

    github.setMergeable(1, null, 'unknown');
    later(45);
    const computing = await pullRequestTask(checkInput('v2.1.6', opened), deps);
    github.setMergeable(1, true, 'blocked');
    later(700);
    const blocked = await pullRequestTask(checkInput('v2.1.6', computing), deps);

    expect(computing).toMatchObject({
      state: 'open',
      message: expect.stringMatching(/still computing/),
      waitSeconds: 30,
    });
    expect(blocked).toMatchObject({
      state: 'open',
      message: expect.stringMatching(/required reviews or checks/),
      waitSeconds: 60,
    });
    expect(github.calls.filter((call) => call === 'merge')).toEqual([]);
    expect(github.pull(1).status.state).toBe('open');
  });

  it('merge: auto rebuilds a conflicting branch from the current base, then merges it', async () => {
    const { github, deps } = setup({ merge: 'auto' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);
    // Someone changes the same file on the base: the frontend entry.
    github.commitTo('main', {
      [PRODUCTION]: setKustomizeImage(PRODUCTION, fixture(PRODUCTION), {
        image: 'itdo-erp/frontend',
        tag: 'v1.9.0',
      }).content,
    });

    const rebuilt = await pullRequestTask(checkInput('v2.1.6', opened), deps);
    const merged = await pullRequestTask(checkInput('v2.1.6', rebuilt), deps);

    expect(rebuilt).toMatchObject({
      state: 'open',
      message: expect.stringMatching(/conflicted with main: rebuilt/),
    });
    expect(rebuilt.headCommit).not.toBe(opened.headCommit);
    expect(merged.state).toBe('merged');
    const text = github.file(PRODUCTION);
    expect(backendIn(text)?.newTag).toBe('v2.1.6');
    expect(readKustomizeImage(PRODUCTION, text ?? '', 'itdo-erp/frontend')?.newTag).toBe('v1.9.0');
  });

  it('merge: auto does not merge a branch someone else pushed to', async () => {
    const { github, deps } = setup({ merge: 'auto' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);
    github.commitTo('shiplane/backend/production/v2.1.6', { 'notes.txt': 'mine' });

    const answer = await pullRequestTask(checkInput('v2.1.6', opened), deps);

    expect(answer).toMatchObject({
      state: 'open',
      message: expect.stringMatching(/Shiplane does not merge it/),
    });
    expect(github.calls).not.toContain('merge');
  });

  it('merge: manual waits, then answers merged at the commit the person’s merge left, naming them', async () => {
    const { github, deps, later } = setup({ merge: 'manual' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);
    const waiting = await pullRequestTask(checkInput('v2.1.6', opened), deps);
    const commit = github.mergeBy(1, 'erp-lead');
    later(4_000);

    const answer = await pullRequestTask(checkInput('v2.1.6', waiting), deps);

    expect(waiting).toMatchObject({ state: 'open', message: '#1 waits for a person to merge it' });
    expect(github.calls).not.toContain('merge');
    expect(answer).toMatchObject({
      state: 'merged',
      by: 'erp-lead',
      commit: { commit, status: 'committed', pullRequest: 1 },
    });
    expect(github.branches.has('shiplane/backend/production/v2.1.6')).toBe(false);
  });

  it('closed without merging → rejected, naming who closed it; the branch is deleted and the base untouched', async () => {
    const { github, deps } = setup({ merge: 'manual' });
    const base = github.head('main');
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);
    github.closeBy(1, 'erp-lead');

    const answer = await pullRequestTask(checkInput('v2.1.6', opened), deps);

    expect(answer).toMatchObject({
      state: 'rejected',
      by: 'erp-lead',
      message: expect.stringMatching(/#1 .* was closed without merging by erp-lead/),
    });
    expect(github.head('main')).toBe(base);
    expect(github.branches.has('shiplane/backend/production/v2.1.6')).toBe(false);
  });

  it('past the deadline → closes it with a comment, deletes the branch, expired', async () => {
    const { github, deps, later } = setup({ merge: 'manual', timeout: '1h' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);
    later(3_600);

    const answer = await pullRequestTask(checkInput('v2.1.6', opened), deps);

    expect(answer).toMatchObject({
      state: 'expired',
      message: expect.stringMatching(/not merged within 1h/),
    });
    expect(github.pull(1).status.state).toBe('closed');
    expect(github.pull(1).comments.at(-1)?.body).toMatch(/^Not merged within 1h .*backend-v2\.1\.6-run/);
    expect(github.branches.has('shiplane/backend/production/v2.1.6')).toBe(false);
  });

  it('answers merged, not expired, when a person merged it just before Shiplane closed it', async () => {
    const { github, deps, later } = setup({ merge: 'manual', timeout: '1h' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);
    later(3_600);
    const pullRequests = github.pullRequests();
    let commit = '';
    const racing: PullRequestDeps = {
      ...deps,
      github: async () => ({
        repository: github.repository(),
        pullRequests: {
          ...pullRequests,
          close: async (number, comment) => {
            commit = github.mergeBy(number, 'erp-lead');
            await pullRequests.close(number, comment);
          },
        },
      }),
    };

    const answer = await pullRequestTask(checkInput('v2.1.6', opened), racing);

    expect(answer).toMatchObject({ state: 'merged', by: 'erp-lead', commit: { commit, pullRequest: 1 } });
  });

  it('closed by Shiplane for a newer release → superseded, naming the newer tag', async () => {
    const { deps } = setup({ merge: 'manual' });
    const older = await pullRequestTask(openInput('v2.1.6'), deps);
    await pullRequestTask(openInput('v2.1.7', {}, 'c'), deps);

    const answer = await pullRequestTask(checkInput('v2.1.6', older), deps);

    expect(answer.state).toBe('superseded');
    expect(answer.message).toMatch(
      /v2\.1\.6 was not deployed to production: v2\.1\.7 is already there\. #1 was closed for #2/,
    );
  });

  it('keeps waiting, within the deadline, when GitHub does not answer', async () => {
    const { github, deps } = setup({ merge: 'manual' });
    const opened = await pullRequestTask(openInput('v2.1.6'), deps);
    const pullRequests = github.pullRequests();
    const unavailable: PullRequestDeps = {
      ...deps,
      github: async () => ({
        repository: github.repository(),
        pullRequests: {
          ...pullRequests,
          get: async () => Promise.reject(new GitHubUnavailableError('502 Bad Gateway')),
        },
      }),
    };

    const answer = await pullRequestTask(checkInput('v2.1.6', opened), unavailable);

    expect(answer).toMatchObject({
      state: 'open',
      message: expect.stringMatching(/GitHub did not answer \(502 Bad Gateway\)/),
    });
  });
});
