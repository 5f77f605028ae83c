import { afterEach, describe, expect, it } from 'vitest';
import {
  type ArgoCdServer,
  type StandInApp,
  startArgoCdServer,
} from '../../../../local/stand-ins/argocd/server.js';

const TOKEN = 'argocd-test-token';
const FIRST = '1111111111111111111111111111111111111111';
const SECOND = '2222222222222222222222222222222222222222';
const THIRD = '3333333333333333333333333333333333333333';

/** A GitOps branch in memory: its head and the tag each commit deploys. */
function gitops() {
  const tags = new Map<string, string>([[FIRST, 'v1.0.0']]);
  const branch = { head: FIRST };
  return {
    tags,
    push(revision: string, tag: string) {
      tags.set(revision, tag);
      branch.head = revision;
    },
    resolveHead: async () => branch.head,
    readTag: async (revision: string) => tags.get(revision),
  };
}

interface AppJson {
  metadata: { name: string };
  spec: { syncPolicy?: unknown; project: string };
  status: {
    sync: { status: string; revision?: string };
    health: { status: string };
    reconciledAt: string;
    resources: Array<{ kind: string; health?: { status: string; message?: string } }>;
    operationState?: {
      phase: string;
      finishedAt?: string;
      syncResult?: { revision: string };
      operation: { sync: { revision: string }; initiatedBy: unknown };
    };
    summary: { images?: string[] };
  };
  operation?: unknown;
}

let server: ArgoCdServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(apps: StandInApp[], repo = gitops(), extra: { now?: () => Date } = {}) {
  server = await startArgoCdServer({
    token: TOKEN,
    apps,
    resolveHead: repo.resolveHead,
    readTag: repo.readTag,
    ...extra,
  });
  return server;
}

const staging: StandInApp = {
  name: 'shop-staging',
  project: 'shop',
  path: 'environments/staging',
  automated: true,
};

async function get(path: string, token: string | null = TOKEN) {
  const response = await fetch(`${server!.url}${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function app(name: string, refresh = true): Promise<AppJson> {
  const { status, body } = await get(`/api/v1/applications/${name}${refresh ? '?refresh=normal' : ''}`);
  expect(status).toBe(200);
  return body as unknown as AppJson;
}

async function sync(name: string, body: Record<string, unknown>) {
  const response = await fetch(`${server!.url}/api/v1/applications/${name}/sync`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, ...body }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Argo CD stand-in', () => {
  it('starts synced and healthy at the branch head, with Argo-shaped JSON', async () => {
    await start([staging]);

    const body = await app('shop-staging');

    expect(body.metadata.name).toBe('shop-staging');
    expect(body.spec.project).toBe('shop');
    expect(body.spec.syncPolicy).toEqual({ automated: { prune: true, selfHeal: true } });
    expect(body.status.sync).toMatchObject({ status: 'Synced', revision: FIRST });
    expect(body.status.health).toEqual({ status: 'Healthy' });
    expect(body.status.operationState).toMatchObject({ phase: 'Succeeded', syncResult: { revision: FIRST } });
    expect(body.status.summary.images).toEqual(['backend:v1.0.0']);
    expect(body.status.reconciledAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('requires the bearer token', async () => {
    await start([staging]);

    expect((await get('/api/v1/applications/shop-staging', null)).status).toBe(401);
    const wrong = await get('/api/v1/applications/shop-staging', 'nope');
    expect(wrong).toEqual({
      status: 401,
      body: {
        error: 'invalid session: token signature is invalid',
        code: 16,
        message: 'invalid session: token signature is invalid',
      },
    });
  });

  it('answers 404 for an unknown app and 403 for another project', async () => {
    await start([staging]);

    expect(await get('/api/v1/applications/shop-prod')).toEqual({
      status: 404,
      body: {
        error: 'applications.argoproj.io "shop-prod" not found',
        code: 5,
        message: 'applications.argoproj.io "shop-prod" not found',
      },
    });
    expect((await get('/api/v1/applications/shop-staging?project=other')).status).toBe(403);
    expect((await get('/api/v1/applications/shop-staging?project=shop')).status).toBe(200);
    expect((await get('/api/v1/applications/shop-staging?appNamespace=team-a')).status).toBe(404);
  });

  it('answers a sync body that is not JSON 400, an unknown route 404 and a wrong method 405, in grpc-gateway form', async () => {
    await start([staging]);
    const post = (path: string, body: string) =>
      fetch(`${server!.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body,
      });

    const badJson = await post('/api/v1/applications/shop-staging/sync', '{"revision":');
    const wrongMethod = await post('/api/v1/applications/shop-staging', '{}');

    expect({ status: badJson.status, body: await badJson.json() }).toEqual({
      status: 400,
      body: { error: 'request body is not JSON', code: 3, message: 'request body is not JSON' },
    });
    expect(wrongMethod.status).toBe(405);
    expect(await get('/api/v1/projects')).toEqual({
      status: 404,
      body: { error: 'Not Found: /api/v1/projects', code: 5, message: 'Not Found: /api/v1/projects' },
    });
    // The bad body never reached the app: nothing was recorded for it, and no operation started.
    expect(server!.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v1/applications/shop-staging',
      'GET /api/v1/projects',
    ]);
    expect((await app('shop-staging')).status.operationState?.phase).toBe('Succeeded');
  });

  it('notices a new commit only on refresh', async () => {
    const repo = gitops();
    await start([staging], repo);
    repo.push(SECOND, 'v1.1.0');

    const without = await app('shop-staging', false);
    const refreshed = await app('shop-staging', true);

    expect(without.status.sync).toMatchObject({ status: 'Synced', revision: FIRST });
    expect(refreshed.status.sync).toMatchObject({ status: 'OutOfSync', revision: SECOND });
  });

  it('notices a new commit without refresh once its reconciliation interval has passed', async () => {
    const repo = gitops();
    let clock = Date.parse('2025-06-03T10:00:00Z');
    await start([staging], repo, { now: () => new Date(clock) });
    repo.push(SECOND, 'v1.1.0');

    clock += 179_000;
    const early = await app('shop-staging', false);
    clock += 1_000;
    const late = await app('shop-staging', false);

    expect(early.status.sync.revision).toBe(FIRST);
    expect(late.status.sync.revision).toBe(SECOND);
  });

  it('auto-syncs a new commit: operation Running, then Succeeded, then health Progressing → Healthy', async () => {
    const repo = gitops();
    await start([staging], repo);
    repo.push(SECOND, 'v1.1.0');

    const seen: string[] = [];
    let last: AppJson | undefined;
    for (let poll = 0; poll < 8; poll++) {
      last = await app('shop-staging');
      const op = last.status.operationState;
      const finishedAt = op?.finishedAt ? Date.parse(op.finishedAt) : 0;
      const fresh = Date.parse(last.status.reconciledAt) > finishedAt ? 'fresh' : 'stale';
      seen.push(`${last.status.sync.status}/${last.status.health.status}/${op?.phase}/${fresh}`);
    }

    expect(seen).toEqual([
      'OutOfSync/Healthy/Running/fresh',
      'OutOfSync/Healthy/Running/fresh',
      'OutOfSync/Healthy/Succeeded/stale',
      'Synced/Progressing/Succeeded/fresh',
      'Synced/Progressing/Succeeded/fresh',
      'Synced/Healthy/Succeeded/fresh',
      'Synced/Healthy/Succeeded/fresh',
      'Synced/Healthy/Succeeded/fresh',
    ]);
    expect(last?.status.operationState).toMatchObject({
      syncResult: { revision: SECOND },
      operation: { initiatedBy: { automated: true } },
    });
    expect(last?.status.summary.images).toEqual(['backend:v1.1.0']);
  });

  it('shows the running operation at the top level while it runs', async () => {
    const repo = gitops();
    await start([staging], repo);
    repo.push(SECOND, 'v1.1.0');

    const running = await app('shop-staging');

    expect(running.operation).toMatchObject({ sync: { revision: SECOND } });
  });

  it('reports rollout progress on the Deployment while Progressing', async () => {
    const repo = gitops();
    await start([staging], repo);
    repo.push(SECOND, 'v1.1.0');
    await app('shop-staging');
    await server!.step('shop-staging', 2);

    const body = await app('shop-staging');

    const deployment = body.status.resources.find((r) => r.kind === 'Deployment');
    expect(deployment?.health).toEqual({
      status: 'Progressing',
      message: 'Waiting for rollout to finish: 1 of 3 updated replicas are available...',
    });
  });

  it('rolls a tag matching the degraded pattern out Degraded', async () => {
    const repo = gitops();
    await start([staging], repo);
    repo.push(SECOND, 'v1.1.0-bad');

    await app('shop-staging');
    await server!.step('shop-staging', 6);
    const body = await app('shop-staging');

    expect(body.status.health.status).toBe('Degraded');
    expect(body.status.resources.find((r) => r.kind === 'Deployment')?.health).toEqual({
      status: 'Degraded',
      message: 'Deployment "backend" exceeded its progress deadline',
    });
  });

  it('leaves a manual-sync app OutOfSync until a sync is requested, and refuses a second one while it runs', async () => {
    const repo = gitops();
    await start([{ ...staging, automated: false }], repo);
    repo.push(SECOND, 'v1.1.0');

    const waiting = await app('shop-staging');
    const first = await sync('shop-staging', { revision: SECOND, prune: false });
    const second = await sync('shop-staging', { revision: SECOND });
    await server!.step('shop-staging', 6);
    const done = await app('shop-staging');

    expect(waiting.status.sync.status).toBe('OutOfSync');
    expect(waiting.status.operationState?.syncResult?.revision).toBe(FIRST);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      operation: { sync: { revision: SECOND }, initiatedBy: { username: 'admin' } },
    });
    expect(second).toEqual({
      status: 400,
      body: {
        error: 'another operation is already in progress',
        code: 9,
        message: 'another operation is already in progress',
      },
    });
    expect(done.status.sync).toMatchObject({ status: 'Synced', revision: SECOND });
    expect(done.status.health.status).toBe('Healthy');
  });

  it('does not auto-sync the same revision twice', async () => {
    const repo = gitops();
    await start([staging], repo);
    repo.push(SECOND, 'v1.1.0');
    await app('shop-staging');
    await server!.step('shop-staging', 6);
    repo.push(THIRD, 'v1.2.0');

    const body = await app('shop-staging');
    const syncs = server!.requests.filter((r) => r.path.endsWith('/sync'));

    expect(body.status.operationState?.operation.sync.revision).toBe(THIRD);
    expect(syncs).toEqual([]);
  });

  it('answers 503 for the next calls when told to fail, then recovers', async () => {
    await start([staging]);
    server!.fail(2);

    const statuses = [
      (await get('/api/v1/applications/shop-staging')).status,
      (await get('/api/v1/applications/shop-staging')).status,
      (await get('/api/v1/applications/shop-staging')).status,
    ];

    expect(statuses).toEqual([503, 503, 200]);
  });

  it('records a comparison error when the head cannot be read', async () => {
    let broken = false;
    server = await startArgoCdServer({
      token: TOKEN,
      apps: [staging],
      resolveHead: async () => {
        if (broken) throw new Error('repository not found');
        return FIRST;
      },
      readTag: async () => 'v1.0.0',
    });
    broken = true;

    const { body } = await get('/api/v1/applications/shop-staging?refresh=hard');

    expect((body as { status: { conditions: unknown } }).status.conditions).toEqual([
      expect.objectContaining({
        type: 'ComparisonError',
        message: expect.stringContaining('repository not found'),
      }),
    ]);
  });

  it('reports a condition set on an app until it is cleared', async () => {
    await start([staging]);
    const message = 'Failed sync attempt to 2222222: one or more objects failed to apply';

    server!.setCondition('shop-staging', { type: 'SyncError', message });
    const { body: reported } = await get('/api/v1/applications/shop-staging');
    server!.setCondition('shop-staging', undefined);
    const { body: cleared } = await get('/api/v1/applications/shop-staging');

    expect((reported as { status: { conditions: unknown } }).status.conditions).toEqual([
      { type: 'SyncError', message, lastTransitionTime: expect.any(String) },
    ]);
    expect((cleared as { status: { conditions?: unknown } }).status.conditions).toBeUndefined();
  });
});
