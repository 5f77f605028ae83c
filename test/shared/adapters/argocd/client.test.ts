import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ArgoCdServer, startArgoCdServer } from '../../../../local/stand-ins/argocd/server.js';
import { createArgoCdClient } from '../../../../shared/adapters/argocd/client.js';
import { createSecretResolver } from '../../../../shared/adapters/aws/secrets.js';
import { TerminalError } from '../../../../shared/errors.js';
import {
  ArgoCdAppNotFoundError,
  ArgoCdAuthenticationError,
  ArgoCdOperationInProgressError,
  ArgoCdPermissionError,
  ArgoCdRequestError,
  ArgoCdUnreachableError,
} from '../../../../shared/ports/argocd.js';
import { fixtureText, OURS } from '../../../fixtures/argocd/load.js';

const TOKEN = 'argocd-test-token';
const HEAD = '1111111111111111111111111111111111111111';
const NEXT = '2222222222222222222222222222222222222222';
const tokenRef = { source: 'env', name: 'ARGOCD_TOKEN' } as const;

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

function client(url: string, token = TOKEN, extra: { attempts?: number; timeoutMs?: number } = {}) {
  return createArgoCdClient({
    url,
    token: tokenRef,
    resolveSecret: createSecretResolver({ env: { ARGOCD_TOKEN: token } }),
    backoffMs: 0,
    ...extra,
  });
}

async function startStandIn(automated = true) {
  const branch = { head: HEAD };
  standIn = await startArgoCdServer({
    token: TOKEN,
    apps: [{ name: 'shop-staging', project: 'shop', path: 'environments/staging', automated }],
    resolveHead: async () => branch.head,
    readTag: async (revision) => (revision === HEAD ? 'v1.0.0' : 'v1.1.0'),
  });
  return branch;
}

/** A raw server that answers each request with the next scripted handler (the last one repeats). */
async function startRaw(...script: Array<(req: IncomingMessage, res: ServerResponse) => void>) {
  let call = 0;
  const seen: IncomingMessage[] = [];
  raw = createServer((req, res) => {
    seen.push(req);
    const handler = script[Math.min(call++, script.length - 1)]!;
    handler(req, res);
  });
  await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}`, seen };
}

const reply =
  (status: number, body: string, type = 'application/json') =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };

describe('Argo CD client against the stand-in', () => {
  it('reads an application with a refresh, so a new commit is seen now', async () => {
    const branch = await startStandIn();
    branch.head = NEXT;

    const app = await client(standIn!.url).getApplication('shop-staging', {
      refresh: 'normal',
      project: 'shop',
    });

    expect(app.metadata.name).toBe('shop-staging');
    expect(app.status?.sync?.revision).toBe(NEXT);
    expect(standIn!.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/api/v1/applications/shop-staging',
      query: { refresh: 'normal', project: 'shop' },
    });
  });

  it('requests a sync to a revision', async () => {
    const branch = await startStandIn(false);
    branch.head = NEXT;
    const argocd = client(standIn!.url);
    await argocd.getApplication('shop-staging', { refresh: 'normal' });

    const app = await argocd.syncApplication('shop-staging', { revision: NEXT, project: 'shop' });

    expect(app.operation?.sync?.revision).toBe(NEXT);
    expect(standIn!.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/api/v1/applications/shop-staging/sync',
      body: { name: 'shop-staging', revision: NEXT, prune: false, project: 'shop' },
    });
  });

  it('says so when another operation is already running', async () => {
    const branch = await startStandIn(false);
    branch.head = NEXT;
    const argocd = client(standIn!.url);
    await argocd.syncApplication('shop-staging', { revision: NEXT });

    await expect(argocd.syncApplication('shop-staging', { revision: NEXT })).rejects.toThrow(
      ArgoCdOperationInProgressError,
    );
  });

  it('fails terminally on a bad token, naming the app and the secret to check', async () => {
    await startStandIn();

    const error = await client(standIn!.url, 'stale-token')
      .getApplication('shop-staging')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgoCdAuthenticationError);
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as Error).message).toBe(
      `Argo CD rejected the token when asked to get application shop-staging (401: invalid session: token signature is invalid): check that env:ARGOCD_TOKEN holds a valid, unexpired Argo CD API token for ${standIn!.url}`,
    );
  });

  it('fails terminally on an unknown app, saying to check argocdApp', async () => {
    await startStandIn();

    const error = await client(standIn!.url)
      .getApplication('shop-prod')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgoCdAppNotFoundError);
    expect((error as Error).message).toBe(
      `Argo CD has no application shop-prod (404: applications.argoproj.io "shop-prod" not found): check the stage's argocdApp against \`argocd app list\``,
    );
  });

  it('fails terminally when the project role does not allow the app', async () => {
    await startStandIn();

    const error = await client(standIn!.url)
      .getApplication('shop-staging', { project: 'payments' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgoCdPermissionError);
    expect((error as Error).message).toMatch(
      /^Argo CD denied get on application shop-staging \(403: permission denied\): check that the token's role in project payments allows applications, get on it/,
    );
  });

  it('retries through a few 503s from the stand-in', async () => {
    await startStandIn();
    standIn!.fail(2);

    const app = await client(standIn!.url).getApplication('shop-staging');

    expect(app.metadata.name).toBe('shop-staging');
    expect(standIn!.requests).toHaveLength(3);
  });
});

describe('Argo CD client against a raw server', () => {
  it('recovers when the server answers 502 then comes up', async () => {
    const server = await startRaw(
      reply(502, '<html>Bad Gateway</html>', 'text/html'),
      reply(200, fixtureText('healthy-at-our-commit')),
    );

    const app = await client(server.url).getApplication('itdo-erp-staging', { refresh: 'normal' });

    expect(app.status?.sync?.revision).toBe(OURS);
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('gives up after its attempts with a transient error that names the server and the last problem', async () => {
    const server = await startRaw(
      reply(503, JSON.stringify({ error: 'connection refused', code: 14, message: 'connection refused' })),
    );

    const error = await client(server.url, TOKEN, { attempts: 3 })
      .getApplication('itdo-erp-staging')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgoCdUnreachableError);
    expect(error).not.toBeInstanceOf(TerminalError);
    expect((error as Error).message).toBe(
      `Argo CD at ${server.url} was unreachable for reading itdo-erp-staging after 3 attempts: HTTP 503: connection refused`,
    );
    expect(server.seen).toHaveLength(3);
  });

  it('reports a server that is down as unreachable', async () => {
    const server = await startRaw(reply(200, '{}'));
    const url = server.url;
    raw!.closeAllConnections();
    await new Promise((resolve) => raw!.close(resolve));
    raw = undefined;

    const error = await client(url, TOKEN, { attempts: 2 })
      .getApplication('itdo-erp-staging')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgoCdUnreachableError);
    expect((error as Error).message).toMatch(/after 2 attempts: fetch failed \(ECONNREFUSED\)$/);
  });

  it('times out a call that gets no answer', async () => {
    const server = await startRaw(() => {
      // Never answers.
    });

    const error = await client(server.url, TOKEN, { attempts: 1, timeoutMs: 50 })
      .getApplication('itdo-erp-staging')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgoCdUnreachableError);
    expect((error as Error).message).toMatch(/after 1 attempt: no answer within 50 ms$/);
  });

  it('refuses a 200 that is not JSON, pointing at argocd.url', async () => {
    const server = await startRaw(reply(200, '<!doctype html><title>Argo CD</title>', 'text/html'));

    const error = await client(server.url)
      .getApplication('itdo-erp-staging')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArgoCdRequestError);
    expect((error as Error).message).toMatch(
      /not JSON \(HTTP 200\): check argocd.url points at the Argo CD server$/,
    );
  });

  it('keeps a path prefix in the server URL and encodes the app name', async () => {
    const server = await startRaw(reply(200, fixtureText('healthy-at-our-commit')));

    await client(`${server.url}/argo-cd/`).getApplication('itdo erp', { appNamespace: 'team-a' });

    expect(server.seen[0]!.url).toBe('/argo-cd/api/v1/applications/itdo%20erp?appNamespace=team-a');
  });

  it('treats an operation-in-progress answer from a real Argo CD body as not an error of ours', async () => {
    const server = await startRaw(reply(400, fixtureText('error-operation-in-progress')));

    await expect(client(server.url).syncApplication('itdo-erp-staging', { revision: OURS })).rejects.toThrow(
      ArgoCdOperationInProgressError,
    );
  });

  it('does not retry a 401', async () => {
    const server = await startRaw(reply(401, fixtureText('error-unauthenticated')));

    await expect(client(server.url).getApplication('itdo-erp-staging')).rejects.toThrow(
      /\(401: invalid session: token has invalid claims: token is expired\)/,
    );
    expect(server.seen).toHaveLength(1);
  });
});
