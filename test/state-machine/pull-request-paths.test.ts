/**
 * Pull-request mode on the whole path: the synthesized state machine in the local engine with every
 * real handler (the sandbox's runtime), the pull-request function through the real GitHub adapter
 * against the GitHub stand-in's pulls, issues and refs endpoints, and the Argo CD and Slack
 * stand-ins. Staging goes through a pull request; a person's merge or close, required checks held
 * pending and a conflicting base commit are the stand-in's test controls. Each path asserts what
 * GitHub ends with (the base branch's file, the pull request's state, the branch gone) and the run's
 * outcome and result.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ecrPushEvent, sqsEventOf } from '../../local/sandbox/ecr-push.js';
import { seedGitopsRepository } from '../../local/sandbox/gitops-repo.js';
import { createLocalRuntime, type LocalRuntime } from '../../local/sandbox/runtime.js';
import {
  SANDBOX_CHANNEL,
  SANDBOX_REPOSITORY,
  SANDBOX_SECRET_ENV,
  SANDBOX_USERS,
  sandboxConfigText,
} from '../../local/sandbox/sandbox-config.js';
import { settled } from '../../local/sandbox/settled.js';
import { type ArgoCdServer, startArgoCdServer } from '../../local/stand-ins/argocd/server.js';
import { type GitHubServer, startGitHubServer } from '../../local/stand-ins/github/index.js';
import { type SlackServer, startSlackServer } from '../../local/stand-ins/slack/server.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import { parseConfig } from '../../shared/config/load.js';
import type { ConfigInput } from '../../shared/config/schema.js';
import { buildTimeline, summarizeRun } from '../../shared/domain/execution-timeline.js';
import { readKustomizeImage } from '../../shared/domain/kustomize-image.js';
import { supersededBy } from '../../shared/domain/superseded.js';

const STAGING = 'environments/staging/kustomization.yaml';
const BACKEND = 'itdo-erp/backend';

const env: NodeJS.ProcessEnv = {
  [SANDBOX_SECRET_ENV.githubToken]: `ghs_${randomBytes(18).toString('hex')}`,
  [SANDBOX_SECRET_ENV.argocdToken]: randomBytes(24).toString('base64url'),
  [SANDBOX_SECRET_ENV.slackBotToken]: `xoxb-${randomBytes(12).toString('hex')}`,
  [SANDBOX_SECRET_ENV.slackSigningSecret]: randomBytes(16).toString('hex'),
};
const secret = (name: string) => env[name] ?? '';

let workdir: string;
let github: GitHubServer;
let argocd: ArgoCdServer;
let slack: SlackServer;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'shiplane-pull-requests-'));
  const repoDir = join(workdir, 'repo');
  const seeded = await seedGitopsRepository(repoDir);
  const [owner = '', repo = ''] = SANDBOX_REPOSITORY.split('/');
  github = await startGitHubServer({
    owner,
    repo,
    repoDir,
    branch: seeded.branch,
    token: secret(SANDBOX_SECRET_ENV.githubToken),
    collaborators: ['erp-lead'],
  });
  argocd = await startArgoCdServer({
    token: secret(SANDBOX_SECRET_ENV.argocdToken),
    apps: [{ name: 'itdo-erp-staging', path: 'environments/staging', automated: true, replicas: 1 }],
    // Argo CD follows the base branch: it sees the change only once the pull request is merged.
    resolveHead: () => github.head(),
    readTag: async (revision, app) => {
      const text = await github.readFile(`${app.path}/kustomization.yaml`, revision);
      return (text && readKustomizeImage(STAGING, text, BACKEND)?.newTag) ?? undefined;
    },
  });
  slack = await startSlackServer({
    botToken: secret(SANDBOX_SECRET_ENV.slackBotToken),
    channels: [SANDBOX_CHANNEL],
    users: Object.values(SANDBOX_USERS).map((user) => ({ id: user.id, name: user.name })),
    teamId: 'T0ITDOERP1',
  });
}, 120_000);

afterAll(async () => {
  await slack?.close();
  await argocd?.close();
  await github?.close();
  await rm(workdir, { recursive: true, force: true });
});

/** The sandbox config with staging as its one stage, proposed through a pull request. */
function pullRequestConfig(pullRequest: NonNullable<ConfigInput['stages'][number]['pullRequest']>) {
  const raw = parseDocument(
    sandboxConfigText({ githubApiUrl: github.url, argocdUrl: argocd.url, slackApiUrl: slack.apiUrl }),
  ).toJS() as ConfigInput;
  const staging = raw.stages.find((stage) => stage.name === 'staging');
  if (!staging) throw new Error('the sandbox config has no staging stage');
  return parseConfig(
    { ...raw, secrets: [], stages: [{ ...staging, rollback: 'off', pullRequest }] },
    'test config',
  );
}

/** A runtime for the `describe` it is called in, started before its tests and stopped after them. */
function useRuntime(pullRequest: Parameters<typeof pullRequestConfig>[0]): () => LocalRuntime {
  let runtime: LocalRuntime | undefined;
  beforeAll(async () => {
    runtime = await createLocalRuntime({
      config: pullRequestConfig(pullRequest),
      resolveSecret: createSecretResolver({ env }),
      // Waits of 50 ms: the poll loop turns quickly but the test's person still gets a word in.
      timing: { waitSeconds: 0.05, retryIntervalMs: 0 },
      githubWriteIntervalMs: 0,
    });
  }, 120_000);
  afterAll(async () => {
    await runtime?.stop();
  });
  return () => {
    if (!runtime) throw new Error('the runtime is not started yet');
    return runtime;
  };
}

async function push(runtime: LocalRuntime, tag: string): Promise<string> {
  const outcome = await runtime.deliver(sqsEventOf(ecrPushEvent({ repository: BACKEND, tag })));
  expect(outcome.result).toBe('started');
  return outcome.execution ?? '';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The number of the pull request the run opened, once `Open pull request` has answered. */
async function openedPullRequest(runtime: LocalRuntime, execution: string): Promise<number> {
  for (let attempt = 0; attempt < 1_200; attempt++) {
    for (const event of runtime.engine.history(execution)) {
      const output = event.taskSucceededEventDetails?.output;
      if (!output?.includes('"state":"open"')) continue;
      const parsed = JSON.parse(output) as { number?: number; Payload?: { number?: number } };
      const number = parsed.number ?? parsed.Payload?.number;
      if (number) return number;
    }
    if (runtime.engine.describeExecution(execution).status !== 'RUNNING') break;
    await sleep(25);
  }
  throw new Error(`run ${execution} opened no pull request`);
}

const stagingTag = async (revision?: string) =>
  readKustomizeImage(STAGING, (await github.readFile(STAGING, revision)) ?? '', BACKEND)?.newTag;

/** The shiplane/ branches that still exist. */
const shiplaneBranches = async () =>
  (await github.git('for-each-ref', '--format=%(refname:short)', 'refs/heads/shiplane/')).trim();

interface RunOutput {
  outcome?: string;
  error?: { Error?: string; Cause?: string };
  stages?: Record<string, { commit?: Record<string, unknown>; pullRequest?: Record<string, unknown> }>;
}

async function finished(runtime: LocalRuntime, execution: string) {
  const description = await settled(runtime, execution);
  const output = JSON.parse(description.output ?? '{}') as RunOutput;
  const summary = summarizeRun(buildTimeline(runtime.engine.history(execution)));
  return { description, output, summary };
}

describe('merge: auto', () => {
  const runtime = useRuntime({ merge: 'auto', method: 'squash' });

  it('merges the pull request itself and waits for Argo CD at the squash commit on main', {
    timeout: 90_000,
  }, async () => {
    // Act
    const execution = await push(runtime(), 'v2.2.0');
    const number = await openedPullRequest(runtime(), execution);
    const { description, output, summary } = await finished(runtime(), execution);

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(output.outcome).toBe('deployed');
    const head = await github.head();
    expect(await stagingTag()).toBe('v2.2.0');
    const pull = await github.pullRequest(number);
    expect(pull).toMatchObject({ state: 'closed', merged: true });
    expect(await shiplaneBranches()).toBe('');
    expect(output.stages?.staging?.commit).toMatchObject({
      commit: head,
      status: 'committed',
      pullRequest: number,
    });
    expect(summary.stages[0]).toMatchObject({
      name: 'staging',
      pullRequest: number,
      commit: head,
      health: 'healthy',
    });
  });

  it('rebuilds a branch that conflicts with a newer base commit, then merges it', {
    timeout: 90_000,
  }, async () => {
    // Prepare: checks held pending, so the pull request stays open until the conflict is there.
    const release = github.holdChecks();
    const execution = await push(runtime(), 'v2.2.1');
    const number = await openedPullRequest(runtime(), execution);
    const proposed = (await github.pullRequest(number)).headSha;

    // Act
    const conflict = await github.pushConflict(number);
    release();
    const { output } = await finished(runtime(), execution);

    // Assess
    expect(output.outcome).toBe('deployed');
    expect(await stagingTag()).toBe('v2.2.1');
    // The other writer's commit stays on main, under ours.
    await expect(github.git('merge-base', '--is-ancestor', conflict, 'main')).resolves.toBeDefined();
    const pull = await github.pullRequest(number);
    expect(pull).toMatchObject({ state: 'closed', merged: true });
    expect(pull.headSha).not.toEqual(proposed);
    expect(await shiplaneBranches()).toBe('');
  });

  it('closes an older release’s open pull request when a newer one is proposed: the older run ends superseded', {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const release = github.holdChecks();
    const older = await push(runtime(), 'v2.2.2');
    const olderNumber = await openedPullRequest(runtime(), older);

    // Act
    const newer = await push(runtime(), 'v2.2.3');
    const newerNumber = await openedPullRequest(runtime(), newer);
    const olderRun = await finished(runtime(), older);
    release();
    const newerRun = await finished(runtime(), newer);

    // Assess
    expect(olderRun.output.outcome).toBe('superseded');
    expect(supersededBy(olderRun.output.error?.Cause ?? '')).toBe('v2.2.3');
    const closed = await github.pullRequest(olderNumber);
    expect(closed).toMatchObject({ state: 'closed', merged: false });
    expect(closed.comments.map((comment) => comment.body)).toContain(
      `Superseded by #${newerNumber} (v2.2.3).`,
    );
    expect(newerRun.output.outcome).toBe('deployed');
    expect(await github.pullRequest(newerNumber)).toMatchObject({ state: 'closed', merged: true });
    expect(await stagingTag()).toBe('v2.2.3');
    expect(await shiplaneBranches()).toBe('');
  });
});

describe('merge: manual', () => {
  const runtime = useRuntime({ merge: 'manual', method: 'merge', reviewers: ['erp-lead'] });

  it('waits for a person’s merge, then for Argo CD at the merge commit, naming who merged', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const execution = await push(runtime(), 'v2.3.0');
    const number = await openedPullRequest(runtime(), execution);
    await sleep(300);
    expect(runtime().engine.describeExecution(execution).status).toBe('RUNNING');
    expect(await stagingTag()).not.toBe('v2.3.0');

    // Act
    const merge = await github.mergePullRequest(number, { by: 'erp-lead', method: 'merge' });
    const { output, summary } = await finished(runtime(), execution);

    // Assess
    expect(output.outcome).toBe('deployed');
    expect(output.stages?.staging?.commit).toMatchObject({
      commit: merge,
      status: 'committed',
      pullRequest: number,
      mergedBy: 'erp-lead',
    });
    expect(summary.stages[0]).toMatchObject({ pullRequest: number, commit: merge });
    expect(await github.pullRequest(number)).toMatchObject({
      merged: true,
      mergedBy: 'erp-lead',
      mergeCommit: merge,
    });
    expect(await stagingTag()).toBe('v2.3.0');
    expect(await shiplaneBranches()).toBe('');
  });

  it('ends rejected, naming who closed the pull request unmerged; main is untouched', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const before = await github.head();
    const execution = await push(runtime(), 'v2.3.1');
    const number = await openedPullRequest(runtime(), execution);

    // Act
    await github.closePullRequest(number, { by: 'erp-lead' });
    const { description, output } = await finished(runtime(), execution);

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(output.outcome).toBe('rejected');
    expect(output.error).toMatchObject({ Error: 'Shiplane.PullRequestClosed' });
    expect(output.error?.Cause).toMatch(new RegExp(`#${number} .*was closed without merging by erp-lead`));
    expect(await github.head()).toBe(before);
    expect(await github.pullRequest(number)).toMatchObject({ state: 'closed', merged: false });
    expect(await shiplaneBranches()).toBe('');
  });
});

describe('merge: manual with a short timeout', () => {
  const runtime = useRuntime({ merge: 'manual', timeout: '2s' });

  it('closes the pull request with a comment when nobody merges it in time: expired', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const before = await github.head();

    // Act
    const execution = await push(runtime(), 'v2.4.0');
    const number = await openedPullRequest(runtime(), execution);
    const { description, output } = await finished(runtime(), execution);

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(output.outcome).toBe('expired');
    expect(output.error).toMatchObject({ Error: 'Shiplane.PullRequestExpired' });
    const pull = await github.pullRequest(number);
    expect(pull).toMatchObject({ state: 'closed', merged: false });
    expect(pull.comments.at(-1)?.body).toMatch(new RegExp(`^Not merged within 2s .*${execution}`));
    expect(await github.head()).toBe(before);
    expect(await shiplaneBranches()).toBe('');
  });
});
