import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ArgoCdServer,
  type StandInApp,
  startArgoCdServer,
} from '../../../local/argocd-server/server.js';
import { type ArgoCdClient, createArgoCdClient } from '../../../shared/adapters/argocd/client.js';
import { ArgoCdAppNotFoundError, ArgoCdAuthenticationError } from '../../../shared/adapters/argocd/errors.js';
import { createSecretResolver } from '../../../shared/adapters/aws/secrets.js';
import { type Ancestry, AncestryUnavailableError } from '../../../shared/adapters/github/ancestry.js';
import { checkArgoCdHealth } from '../../../shared/argocd/check-health.js';
import { type HealthCheckInput, healthCheckResultSchema } from '../../../shared/contracts/tasks.js';
import { GitOpsSourceNotFoundError } from '../../../shared/domain/argocd-verdict.js';
import { GitOpsBranch, sha } from '../../fixtures/argocd/gitops-branch.js';
import { type ApplicationFixture, fixtureText, GITOPS_REPOSITORY, OURS } from '../../fixtures/argocd/load.js';

const TOKEN = 'argocd-test-token';
const CHECKED_AT = new Date('2025-06-03T10:05:00.000Z');

let standIn: ArgoCdServer | undefined;
let raw: Server | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
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
    attempt: 1,
    maxAttempts: 90,
    ...overrides,
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
    const deps = { argocd, ancestry: branch.ancestry, now: () => CHECKED_AT };

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

    const result = await checkArgoCdHealth(input(ours), { argocd, ancestry });

    expect(result).toMatchObject({ status: 'progressing', revision: branch.head, syncStatus: 'Synced' });
    expect(result.message).toBe(
      'shop-staging is at 1111111 (Synced, Healthy), waiting for Argo CD to pick up 2222222',
    );
  });

  it('is healthy at a later commit by someone else that contains ours', async () => {
    const { branch, argocd } = await setUp();
    const ours = branch.push(sha('2'), 'v1.1.0');
    const later = branch.push(sha('3'), 'v1.1.0');
    const deps = { argocd, ancestry: branch.ancestry };

    const results = await poll((attempt) => checkArgoCdHealth(input(ours, { attempt }), deps));

    expect(results.at(-1)).toMatchObject({ status: 'healthy', revision: later });
    expect(branch.questions).toContain(`${later} contains ${ours}`);
  });

  it('reports degraded when our release rolls out Degraded', async () => {
    const { branch, argocd } = await setUp();
    const commit = branch.push(sha('2'), 'v1.1.0-bad');

    const results = await poll((attempt) =>
      checkArgoCdHealth(input(commit, { attempt }), { argocd, ancestry: branch.ancestry }),
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
    const deps = { argocd, ancestry: branch.ancestry };

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
    const deps = { argocd, ancestry: branch.ancestry };

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
      now: () => CHECKED_AT,
    });
    const up = await checkArgoCdHealth(input(commit, { attempt: 2 }), { argocd, ancestry: branch.ancestry });

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

    const result = await checkArgoCdHealth(input(sha('2')), { argocd, ancestry });

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
      }),
    ).rejects.toThrow(ArgoCdAuthenticationError);
  });

  it('fails the run on an unknown app', async () => {
    const { branch, argocd } = await setUp();

    await expect(
      checkArgoCdHealth(input(sha('2'), { argocdApp: 'shop-stagign' }), {
        argocd,
        ancestry: branch.ancestry,
      }),
    ).rejects.toThrow(ArgoCdAppNotFoundError);
  });

  it('keeps an app Synced and Healthy at our commit waiting while it reports an error condition', async () => {
    const { branch, argocd } = await setUp();
    const commit = branch.push(sha('2'), 'v1.1.0');
    const deps = { argocd, ancestry: branch.ancestry };
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

    const result = await checkArgoCdHealth(input(OURS, { argocdApp: 'itdo-erp-staging' }), {
      argocd,
      ancestry,
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

    await expect(
      checkArgoCdHealth(input(OURS, { argocdApp: 'itdo-erp-staging' }), {
        argocd,
        ancestry,
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
