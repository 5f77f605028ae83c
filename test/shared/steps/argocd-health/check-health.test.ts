import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ArgoCdServer,
  type StandInApp,
  startArgoCdServer,
} from '../../../../local/stand-ins/argocd/server.js';
import type { GitHubServer } from '../../../../local/stand-ins/github/index.js';
import { createArgoCdClient } from '../../../../shared/adapters/argocd/client.js';
import { createSecretResolver } from '../../../../shared/adapters/aws/secrets.js';
import { createGitHubAncestry } from '../../../../shared/adapters/github/ancestry.js';
import { githubRepository } from '../../../../shared/adapters/github/repository.js';
import {
  type HealthCheckInput,
  healthCheckResultSchema,
  type Release,
} from '../../../../shared/contracts/tasks.js';
import { GitOpsSourceNotFoundError } from '../../../../shared/domain/argocd-verdict.js';
import { readKustomizeImage, setKustomizeImage } from '../../../../shared/domain/kustomize-image.js';
import { supersededBy } from '../../../../shared/domain/superseded.js';
import type { ArgoCdClient } from '../../../../shared/ports/argocd.js';
import { ArgoCdAppNotFoundError, ArgoCdAuthenticationError } from '../../../../shared/ports/argocd.js';
import { type Ancestry, AncestryUnavailableError } from '../../../../shared/ports/gitops-repository.js';
import {
  type ArgoCdHealthDeps,
  checkArgoCdHealth,
} from '../../../../shared/steps/argocd-health/check-health.js';
import { cachedRevisionFiles } from '../../../../shared/steps/argocd-health/revision-files.js';
import { GitOpsBranch, sha } from '../../../fixtures/argocd/gitops-branch.js';
import {
  type ApplicationFixture,
  fixtureText,
  GITOPS_REPOSITORY,
  OURS,
} from '../../../fixtures/argocd/load.js';
import { connect, REPOSITORY, STAGING, startItdoGitHub } from '../commit/support.js';

const TOKEN = 'argocd-test-token';
const CHECKED_AT = new Date('2025-06-03T10:05:00.000Z');

let standIn: ArgoCdServer | undefined;
let raw: Server | undefined;
let github: GitHubServer | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
  await github?.close();
  github = undefined;
  if (raw) {
    raw.closeAllConnections();
    await new Promise((resolve) => raw!.close(resolve));
    raw = undefined;
  }
});

const staging: StandInApp = {
  name: 'shop-staging',
  project: 'shop',
  path: 'environments/staging',
  automated: true,
};

function argocdClient(url: string, token = TOKEN): ArgoCdClient {
  return createArgoCdClient({
    url,
    token: { source: 'env', name: 'ARGOCD_TOKEN' },
    resolveSecret: createSecretResolver({ env: { ARGOCD_TOKEN: token } }),
    backoffMs: 0,
    attempts: 2,
  });
}

async function setUp(app: StandInApp = staging) {
  const branch = new GitOpsBranch(sha('1'), 'v1.0.0');
  standIn = await startArgoCdServer({
    token: TOKEN,
    apps: [app],
    resolveHead: branch.resolveHead,
    readTag: branch.readTag,
  });
  return { branch, argocd: argocdClient(standIn.url) };
}

function input(commit: string, overrides: Partial<HealthCheckInput> = {}): HealthCheckInput {
  return {
    execution: 'backend-v1-1-0-0123456789ab',
    stage: 'staging',
    argocdApp: 'shop-staging',
    argocdProject: 'shop',
    sync: false,
    commit,
    release: releaseOf('v1.1.0'),
    file: 'environments/staging/kustomization.yaml',
    pinDigest: false,
    attempt: 1,
    maxAttempts: 90,
    ...overrides,
  };
}

function releaseOf(tag: string): Release {
  return {
    app: 'backend',
    ecrRepository: 'itdo-erp/backend',
    image: 'itdo-erp/backend',
    tag,
    digest: `sha256:${'ab'.repeat(32)}`,
    registryId: '123456789012',
    region: 'eu-west-1',
    pushedAt: '2025-06-03T10:00:00Z',
  };
}

/** Polls like the state machine does until the verdict is no longer progressing (or polls run out). */
async function poll(check: (attempt: number) => ReturnType<typeof checkArgoCdHealth>, max = 15) {
  const results = [];
  for (let attempt = 1; attempt <= max; attempt++) {
    const result = await check(attempt);
    results.push(result);
    if (result.status !== 'progressing') break;
  }
  return results;
}

describe('checkArgoCdHealth', () => {
  it('waits through the sync and the rollout, then reports healthy at our commit', async () => {
    const { branch, argocd } = await setUp();
    const commit = branch.push(sha('2'), 'v1.1.0');
    const deps = { argocd, ancestry: branch.ancestry, files: branch.files, now: () => CHECKED_AT };

    const results = await poll((attempt) => checkArgoCdHealth(input(commit, { attempt }), deps));

    expect(results.map((r) => r.status)).toEqual([
      'progressing',
      'progressing',
      'progressing',
      'progressing',
      'progressing',
      'healthy',
    ]);
    expect(results.map((r) => r.message)).toEqual([
      'sync to 2222222 Running: waiting for healthy state of apps/Deployment/backend',
      'sync to 2222222 Running: waiting for healthy state of apps/Deployment/backend',
      expect.stringMatching(/^sync to 2222222 finished at .*; waiting for Argo CD to reconcile after it$/),
      'Deployment backend Progressing: Waiting for rollout to finish: 1 of 3 updated replicas are available...',
      'Deployment backend Progressing: Waiting for rollout to finish: 2 of 3 updated replicas are available...',
      'Synced and Healthy at 2222222',
    ]);
    expect(results.at(-1)).toEqual({
      status: 'healthy',
      message: 'Synced and Healthy at 2222222',
      revision: commit,
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      checkedAt: '2025-06-03T10:05:00.000Z',
      attempt: 6,
    });
    for (const result of results) expect(healthCheckResultSchema.parse(result)).toEqual(result);
  });

  it('never passes the previous release that is still Synced and Healthy', async () => {
    const { argocd, branch } = await setUp();
    const ours = sha('2');
    // Our commit exists on GitHub but is not on the branch Argo CD follows yet.
    const ancestry: Ancestry = { contains: async (head, commit) => head === commit };

    const result = await checkArgoCdHealth(input(ours), { argocd, ancestry, files: branch.files });

    expect(result).toMatchObject({ status: 'progressing', revision: branch.head, syncStatus: 'Synced' });
    expect(result.message).toBe(
      'shop-staging is at 1111111 (Synced, Healthy), waiting for Argo CD to pick up 2222222',
    );
  });

  it('is healthy at a later commit by someone else that contains ours', async () => {
    const { branch, argocd } = await setUp();
    const ours = branch.push(sha('2'), 'v1.1.0');
    const later = branch.push(sha('3'), 'v1.1.0');
    const deps = { argocd, ancestry: branch.ancestry, files: branch.files };

    const results = await poll((attempt) => checkArgoCdHealth(input(ours, { attempt }), deps));

    expect(results.at(-1)).toMatchObject({ status: 'healthy', revision: later });
    expect(branch.questions).toContain(`${later} contains ${ours}`);
  });

  it('reports degraded when our release rolls out Degraded', async () => {
    const { branch, argocd } = await setUp();
    const commit = branch.push(sha('2'), 'v1.1.0-bad');

    const results = await poll((attempt) =>
      checkArgoCdHealth(input(commit, { attempt, release: releaseOf('v1.1.0-bad') }), {
        argocd,
        ancestry: branch.ancestry,
        files: branch.files,
      }),
    );

    expect(results.at(-1)).toMatchObject({
      status: 'degraded',
      revision: commit,
      healthStatus: 'Degraded',
      message: 'Deployment backend Degraded: Deployment "backend" exceeded its progress deadline',
    });
  });

  it('syncs a manual-sync app once when the stage sets sync, then waits for it', async () => {
    const { branch, argocd } = await setUp({ ...staging, automated: false });
    const commit = branch.push(sha('2'), 'v1.1.0');
    const deps = { argocd, ancestry: branch.ancestry, files: branch.files };

    const results = await poll((attempt) => checkArgoCdHealth(input(commit, { attempt, sync: true }), deps));

    expect(results[0]?.message).toBe(
      'OutOfSync at 2222222, waiting for a sync (last sync Succeeded at 1111111); sync to 2222222 requested',
    );
    expect(results.at(-1)).toMatchObject({ status: 'healthy', revision: commit });
    const syncs = standIn!.requests.filter((r) => r.method === 'POST');
    expect(syncs).toEqual([
      {
        method: 'POST',
        path: '/api/v1/applications/shop-staging/sync',
        query: {},
        body: { name: 'shop-staging', revision: commit, prune: false, project: 'shop' },
      },
    ]);
  });

  it('leaves a manual-sync app alone when the stage does not set sync', async () => {
    const { branch, argocd } = await setUp({ ...staging, automated: false });
    const commit = branch.push(sha('2'), 'v1.1.0');
    const deps = { argocd, ancestry: branch.ancestry, files: branch.files };

    const results = await poll((attempt) => checkArgoCdHealth(input(commit, { attempt }), deps), 4);

    expect(results.map((r) => r.status)).toEqual([
      'progressing',
      'progressing',
      'progressing',
      'progressing',
    ]);
    expect(results.at(-1)?.message).toBe(
      'OutOfSync at 2222222, waiting for a sync (last sync Succeeded at 1111111)',
    );
    expect(standIn!.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('reports progressing with the reason while Argo CD is unreachable, and recovers', async () => {
    const { branch, argocd } = await setUp();
    const commit = branch.push(sha('2'), 'v1.1.0');
    standIn!.fail(2);

    const down = await checkArgoCdHealth(input(commit), {
      argocd,
      ancestry: branch.ancestry,
      files: branch.files,
      now: () => CHECKED_AT,
    });
    const up = await checkArgoCdHealth(input(commit, { attempt: 2 }), {
      argocd,
      ancestry: branch.ancestry,
      files: branch.files,
    });

    expect(down).toEqual({
      status: 'progressing',
      message: `Argo CD at ${standIn!.url} was unreachable for reading shop-staging after 2 attempts: HTTP 503: upstream connect error or disconnect/reset before headers`,
      revision: null,
      syncStatus: 'Unknown',
      healthStatus: 'Unknown',
      checkedAt: '2025-06-03T10:05:00.000Z',
      attempt: 1,
    });
    expect(up).toMatchObject({ status: 'progressing', revision: commit });
  });

  it('keeps polling when GitHub cannot answer the ancestry question', async () => {
    const { branch, argocd } = await setUp();
    branch.push(sha('3'), 'v1.1.0');
    const ancestry: Ancestry = {
      contains: async () => {
        throw new AncestryUnavailableError(
          'GitHub could not compare 2222222...3333333 in shop/gitops: HTTP 502',
        );
      },
    };

    const result = await checkArgoCdHealth(input(sha('2')), { argocd, ancestry, files: branch.files });

    expect(result).toMatchObject({
      status: 'progressing',
      revision: sha('3'),
      message: 'GitHub could not compare 2222222...3333333 in shop/gitops: HTTP 502; will ask again',
    });
  });

  it('fails the run on a bad token', async () => {
    const { branch } = await setUp();

    await expect(
      checkArgoCdHealth(input(sha('2')), {
        argocd: argocdClient(standIn!.url, 'revoked'),
        ancestry: branch.ancestry,
        files: branch.files,
      }),
    ).rejects.toThrow(ArgoCdAuthenticationError);
  });

  it('fails the run on an unknown app', async () => {
    const { branch, argocd } = await setUp();

    await expect(
      checkArgoCdHealth(input(sha('2'), { argocdApp: 'shop-stagign' }), {
        argocd,
        ancestry: branch.ancestry,
        files: branch.files,
      }),
    ).rejects.toThrow(ArgoCdAppNotFoundError);
  });

  it('keeps an app Synced and Healthy at our commit waiting while it reports an error condition', async () => {
    const { branch, argocd } = await setUp();
    const commit = branch.push(sha('2'), 'v1.1.0');
    const deps = { argocd, ancestry: branch.ancestry, files: branch.files };
    standIn!.setCondition('shop-staging', {
      type: 'ComparisonError',
      message: 'Failed to load live state: failed to get cluster info for "https://kubernetes.default.svc"',
    });

    const results = await poll((attempt) => checkArgoCdHealth(input(commit, { attempt }), deps), 8);
    standIn!.setCondition('shop-staging', undefined);
    const cleared = await checkArgoCdHealth(input(commit, { attempt: 9 }), deps);

    expect(results.map((r) => r.status)).toEqual(Array(8).fill('progressing'));
    expect(results.at(-1)).toMatchObject({
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      revision: commit,
      message:
        'Synced and Healthy at 2222222 with an error condition (ComparisonError: Failed to load live state: failed to get cluster info for "https://kubernetes.default.svc")',
    });
    for (const result of results) expect(result.message).toContain('(ComparisonError: ');
    expect(cleared).toMatchObject({ status: 'healthy', message: 'Synced and Healthy at 2222222' });
  });

  it('judges a multi-source application on the source in the GitOps repository it is given', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    const ancestry: Ancestry = { contains: async () => false };
    const files = new GitOpsBranch(OURS, 'v1.1.0').files;

    const result = await checkArgoCdHealth(input(OURS, { argocdApp: 'itdo-erp-staging' }), {
      argocd,
      ancestry,
      files,
      repository: GITOPS_REPOSITORY,
    });

    expect(result).toMatchObject({
      status: 'healthy',
      revision: OURS,
      message: 'Synced and Healthy at 9f8e7d6',
    });
  });

  it('fails the run on a multi-source application with no source in the GitOps repository', async () => {
    const argocd = await serveFixture('multi-source');
    const ancestry: Ancestry = { contains: async () => true };
    const files = new GitOpsBranch(OURS, 'v1.1.0').files;

    await expect(
      checkArgoCdHealth(input(OURS, { argocdApp: 'itdo-erp-staging' }), {
        argocd,
        ancestry,
        files,
        repository: 'itdo-erp/another-repository',
      }),
    ).rejects.toThrow(GitOpsSourceNotFoundError);
  });
});

/** Serves one Application fixture for every request, as a fixed Argo CD would. */
async function serveFixture(name: ApplicationFixture): Promise<ArgoCdClient> {
  raw = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(fixtureText(name));
  });
  await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', resolve));
  return argocdClient(`http://127.0.0.1:${(raw.address() as AddressInfo).port}`);
}

// Each test starts a git-backed GitHub stand-in and polls through a rollout: seconds on a busy machine.
describe('checkArgoCdHealth reading the stage file in the GitOps repository', { timeout: 90_000 }, () => {
  const CONTENTS = 'GET /repos/{owner}/{repo}/contents/{path}';

  /** The GitHub stand-in with the ITDO ERP repository, Argo CD following it, and the real adapters. */
  async function setUpRepository() {
    const server = await startItdoGitHub();
    github = server;
    const backendTag = async (revision: string) => {
      const text = await server.readFile(STAGING, revision);
      return text === null
        ? undefined
        : (readKustomizeImage(STAGING, text, 'itdo-erp/backend')?.newTag ?? undefined);
    };
    standIn = await startArgoCdServer({
      token: TOKEN,
      apps: [{ name: 'itdo-erp-staging', path: 'environments/staging', automated: true }],
      resolveHead: () => server.head(),
      readTag: backendTag,
    });
    const { octokit, credentials, apiUrl } = await connect(server, { retries: 0, rateLimitRetries: 0 });
    const deps: ArgoCdHealthDeps = {
      argocd: argocdClient(standIn.url),
      ancestry: createGitHubAncestry({ octokit, repository: REPOSITORY }),
      files: cachedRevisionFiles(githubRepository(octokit, REPOSITORY, { credentials, apiUrl })),
    };
    /** Commits the backend entry as another writer would (the committer, a person); returns the sha. */
    const pin = async (image: string, tag: string, message: string) => {
      const current = (await server.readFile(STAGING)) ?? '';
      const { content } = setKustomizeImage(STAGING, current, { image, tag });
      return server.commitAs({ [STAGING]: content }, { message });
    };
    const ours = await pin('itdo-erp/backend', 'v2.2.0', 'Promote itdo-erp/backend v2.2.0 to staging');
    const check = (attempt: number) =>
      checkArgoCdHealth(
        input(ours, {
          argocdApp: 'itdo-erp-staging',
          argocdProject: undefined,
          release: releaseOf('v2.2.0'),
          attempt,
        }),
        deps,
      );
    return { server, ours, pin, check };
  }

  it('fails as replaced, naming the revert commit, when a revert puts the older tag back', async () => {
    const { server, ours, check } = await setUpRepository();
    const before = await server.readFile(STAGING, `${ours}~1`);
    expect(await check(1)).toMatchObject({ status: 'progressing', revision: ours });
    const revert = await server.commitAs(
      { [STAGING]: before },
      { message: 'Revert "Promote itdo-erp/backend v2.2.0"' },
    );

    const results = await poll((attempt) => check(attempt + 1));

    expect(results.at(-1)).toMatchObject({
      status: 'replaced',
      revision: revert,
      message: `staging no longer runs backend v2.2.0: ${revert.slice(0, 7)} changed it to v2.1.5`,
    });
  });

  it('names the commit that changed the entry, not a later unrelated one', async () => {
    const { server, ours, check } = await setUpRepository();
    const before = (await server.readFile(STAGING, `${ours}~1`)) ?? '';
    const revert = await server.commitAs({ [STAGING]: before }, { message: 'Revert' });
    const later = await server.commitAs(
      { 'environments/dev/notes.txt': 'unrelated\n' },
      { message: 'Notes' },
    );

    const results = await poll(check);

    expect(results.at(-1)).toMatchObject({
      status: 'replaced',
      revision: later,
      message: `staging no longer runs backend v2.2.0: ${revert.slice(0, 7)} changed it to v2.1.5`,
    });
  });

  it('ends superseded, naming the newer tag, when a newer release replaces ours while it waits', async () => {
    const { pin, check } = await setUpRepository();
    expect(await check(1)).toMatchObject({ status: 'progressing' });
    const newer = await pin('itdo-erp/backend', 'v2.3.0', 'Promote itdo-erp/backend v2.3.0 to staging');

    const results = await poll((attempt) => check(attempt + 1));

    expect(results.at(-1)).toMatchObject({
      status: 'superseded',
      revision: newer,
      message: `itdo-erp/backend v2.2.0 was not deployed to staging: v2.3.0 is already there. ${STAGING} pins v2.3.0 at ${newer.slice(0, 7)}.`,
    });
    expect(supersededBy(results.at(-1)?.message ?? '')).toBe('v2.3.0');
  });

  it("stays healthy through a later commit that changes another app's entry", async () => {
    const { pin, check } = await setUpRepository();
    const later = await pin('itdo-erp/frontend', 'v1.9.0', 'Promote itdo-erp/frontend v1.9.0 to staging');

    const results = await poll(check);

    expect(results.at(-1)).toMatchObject({ status: 'healthy', revision: later });
  });

  it('reads the file once per revision however often it polls', async () => {
    const { server, check } = await setUpRepository();
    server.resetStats();

    const results = await poll(check);

    expect(results.length).toBeGreaterThan(3);
    expect(results.at(-1)?.status).toBe('healthy');
    expect(new Set(results.map((r) => r.revision)).size).toBe(1);
    expect(server.stats.byRoute[CONTENTS]).toBe(1);
  });

  it('keeps polling while GitHub cannot serve the file, and does not cache the failure', async () => {
    const { server, ours, check } = await setUpRepository();
    server.inject({ kind: 'bad-gateway', method: 'GET', path: /\/contents\//, times: 1 });

    const down = await check(1);
    const results = await poll((attempt) => check(attempt + 1));

    expect(down).toMatchObject({ status: 'progressing', revision: ours });
    expect(down.message).toMatch(
      /^GitHub is unavailable: could not read environments\/staging\/kustomization\.yaml .*; will ask again$/,
    );
    expect(results.at(-1)?.status).toBe('healthy');
  });

  it('fails as replaced when the file is gone at the reported revision', async () => {
    const { server, check } = await setUpRepository();
    const removal = await server.commitAs({ [STAGING]: null }, { message: 'Drop the staging overlay' });

    const results = await poll(check);

    expect(results.at(-1)).toMatchObject({
      status: 'replaced',
      message: `staging no longer runs backend v2.2.0: ${removal.slice(0, 7)} deleted ${STAGING}`,
    });
  });
});
