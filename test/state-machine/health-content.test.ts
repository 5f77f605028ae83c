/**
 * The content gate on the whole path: the synthesized state machine in the local engine with every
 * real handler (the sandbox's runtime) against the GitHub, Argo CD and Slack stand-ins. While
 * `Staging · Wait for Argo CD` polls, someone pushes to the branch: a revert of our commit, or a
 * newer release. Both descend from our commit, so ancestry alone would pass them; the run must not
 * ask for production approval of a release staging no longer runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import {
  type ArgoCdServer,
  type StandInApp,
  startArgoCdServer,
} from '../../local/stand-ins/argocd/server.js';
import { type GitHubServer, startGitHubServer } from '../../local/stand-ins/github/index.js';
import { type SlackServer, startSlackServer } from '../../local/stand-ins/slack/server.js';
import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import { parseConfigText } from '../../shared/config/load.js';
import { readKustomizeImage, setKustomizeImage } from '../../shared/domain/kustomize-image.js';
import type { Alert } from '../../shared/domain/release-thread.js';
import { supersededBy } from '../../shared/domain/superseded.js';

const STAGING = 'environments/staging/kustomization.yaml';
const PRODUCTION = 'environments/production/kustomization.yaml';
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
let runtime: LocalRuntime;
const alerts: Alert[] = [];

/**
 * Runs once, on the second time Argo CD refreshes the staging app after the branch moved past
 * `armedAt`: by then the run is in `Staging · Wait for Argo CD` and Argo CD has seen our commit.
 */
let interference: { armedAt: string; refreshes: number; push: (ours: string) => Promise<void> } | undefined;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'shiplane-health-content-'));
  const repoDir = join(workdir, 'repo');
  const seeded = await seedGitopsRepository(repoDir);
  const [owner = '', repo = ''] = SANDBOX_REPOSITORY.split('/');
  github = await startGitHubServer({
    owner,
    repo,
    repoDir,
    branch: seeded.branch,
    token: secret(SANDBOX_SECRET_ENV.githubToken),
  });
  const apps: StandInApp[] = ['staging', 'production'].map((environment) => ({
    name: `itdo-erp-${environment}`,
    path: `environments/${environment}`,
    automated: true,
    replicas: 1,
  }));
  argocd = await startArgoCdServer({
    token: secret(SANDBOX_SECRET_ENV.argocdToken),
    apps,
    resolveHead: async (app) => {
      const head = await github.head();
      if (app.name !== 'itdo-erp-staging' || !interference || head === interference.armedAt) return head;
      interference.refreshes += 1;
      if (interference.refreshes < 2) return head;
      const { push } = interference;
      interference = undefined;
      await push(head);
      return github.head();
    },
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
  // A 1-second approval: were approval ever asked for, the run would end `Approval expired` quickly.
  const config = parseConfigText(
    sandboxConfigText(
      { githubApiUrl: github.url, argocdUrl: argocd.url, slackApiUrl: slack.apiUrl },
      { approvalTimeout: 1 },
    ),
    'test config',
  );
  runtime = await createLocalRuntime({
    config,
    resolveSecret: createSecretResolver({ env }),
    timing: { waitSeconds: 0, retryIntervalMs: 0 },
    githubWriteIntervalMs: 0,
    onAlert: (alert) => alerts.push(alert),
  });
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  await slack?.close();
  await argocd?.close();
  await github?.close();
  await rm(workdir, { recursive: true, force: true });
});

/** Pushes `tag` of the backend to ECR, with `push` armed to land while staging is being checked. */
async function promoteWhile(tag: string, push: (ours: string) => Promise<void>) {
  interference = { armedAt: await github.head(), refreshes: 0, push };
  const production = await github.readFile(PRODUCTION);
  const outcome = await runtime.deliver(sqsEventOf(ecrPushEvent({ repository: BACKEND, tag })));
  const execution = outcome.execution ?? '';
  expect(outcome.result).toBe('started');
  const description = await settled(runtime, execution);
  expect(interference).toBeUndefined();
  return { execution, description, production };
}

/** The staging file with the backend entry set to `tag`, as another writer would commit it. */
async function stagingWith(tag: string, revision: string): Promise<string> {
  const text = (await github.readFile(STAGING, revision)) ?? '';
  return setKustomizeImage(STAGING, text, { image: BACKEND, tag }).content;
}

describe('Staging · Wait for Argo CD with a push to the branch while it polls', () => {
  it('fails the run and alerts when our commit is reverted: no approval is asked, production is untouched', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    let revert = '';
    const push = async (ours: string) => {
      const before = await github.readFile(STAGING, `${ours}~1`);
      revert = await github.commitAs({ [STAGING]: before }, { message: `Revert ${ours.slice(0, 7)}` });
    };

    // Act
    const { execution, description, production } = await promoteWhile('v2.1.6', push);

    // Assess
    const cause = `staging no longer runs backend v2.1.6: ${revert.slice(0, 7)} changed it to v2.1.5`;
    expect(description).toMatchObject({ status: 'FAILED', error: 'Shiplane.Replaced', cause });
    expect(await runtime.store.approvalIdFor(execution, 'production')).toBeUndefined();
    expect(await github.readFile(PRODUCTION)).toBe(production);
    expect(alerts.some((alert) => alert.message.includes(cause))).toBe(true);
  });

  it('ends Superseded, naming the newer tag, when a newer release replaces ours: no approval, production untouched', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const push = async (ours: string) => {
      await github.commitAs({ [STAGING]: await stagingWith('v2.1.9', ours) }, { message: 'Promote v2.1.9' });
    };

    // Act
    const { execution, description, production } = await promoteWhile('v2.1.8', push);

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    const output = JSON.parse(description.output ?? '{}') as { outcome?: string; error?: { Cause?: string } };
    expect(output.outcome).toBe('superseded');
    expect(supersededBy(output.error?.Cause ?? '')).toBe('v2.1.9');
    expect(await runtime.store.approvalIdFor(execution, 'production')).toBeUndefined();
    expect(await github.readFile(PRODUCTION)).toBe(production);
  });
});
