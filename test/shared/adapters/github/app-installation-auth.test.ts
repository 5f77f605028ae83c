/**
 * GitHub App installation auth against the GitHub stand-in, which verifies app JWTs with the app's
 * public key and accepts only the installation tokens it issued, as GitHub does.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Octokit } from '@octokit/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAppJwt } from '../../../../local/stand-ins/github/auth.js';
import type { GitHubServer } from '../../../../local/stand-ins/github/server.js';
import {
  appJwt,
  authenticateAsInstallation,
} from '../../../../shared/adapters/github/app-installation-auth.js';
import { OWNER, REPO, startItdoGitHub } from '../../steps/commit/support.js';

const APP = { appId: 4242, installationId: 99 };
const TOKEN_ROUTE = 'POST /app/installations/{installation_id}/access_tokens';

let pem: string;
let otherPem: string;
let server: GitHubServer | undefined;

beforeAll(() => {
  const pkcs1 = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
    key.export({ type: 'pkcs1', format: 'pem' }).toString();
  pem = pkcs1(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  otherPem = pkcs1(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function appOctokit(privateKey: string, now?: () => number) {
  server ??= await startItdoGitHub({ token: undefined, app: { ...APP, privateKey: pem } });
  const octokit = new Octokit({ baseUrl: server.url, request: { retries: 0 } });
  authenticateAsInstallation(octokit, { ...APP, privateKey }, now);
  return octokit;
}

const readBranch = (octokit: Octokit) =>
  octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { owner: OWNER, repo: REPO, ref: 'heads/main' });

const tokenRequests = () => server?.stats.requests.filter((r) => r.route === TOKEN_ROUTE).length;

describe('appJwt', () => {
  it('signs RS256 with the app id as issuer, backdated a minute and within GitHub’s ten minutes', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    const jwt = appJwt({ appId: 4242, privateKey: pem }, now);
    const [header, payload] = jwt
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));

    expect(header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toEqual({ iat: now / 1000 - 60, exp: now / 1000 - 60 + 540, iss: '4242' });
    expect(verifyAppJwt(appJwt({ appId: 4242, privateKey: pem }), 4242, createPublicKey(pem))).toBe(true);
    expect(verifyAppJwt(appJwt({ appId: 4242, privateKey: otherPem }), 4242, createPublicKey(pem))).toBe(
      false,
    );
  });
});

describe('authenticateAsInstallation', () => {
  it('exchanges an app JWT for an installation token and reuses it', async () => {
    const octokit = await appOctokit(pem);

    await readBranch(octokit);
    await readBranch(octokit);
    await Promise.all([readBranch(octokit), readBranch(octokit)]);

    expect(tokenRequests()).toBe(1);
  });

  it('shares one token request between concurrent first requests', async () => {
    const octokit = await appOctokit(pem);

    await Promise.all([readBranch(octokit), readBranch(octokit), readBranch(octokit)]);

    expect(tokenRequests()).toBe(1);
  });

  it('replaces the token five minutes before it expires', async () => {
    let now = Date.now();
    const octokit = await appOctokit(pem, () => now);
    await readBranch(octokit);

    now += 54 * 60_000;
    await readBranch(octokit);
    expect(tokenRequests()).toBe(1);

    now += 2 * 60_000;
    await readBranch(octokit);
    expect(tokenRequests()).toBe(2);
  });

  it('mints a new token once when GitHub refuses the cached one, then succeeds', async () => {
    const octokit = await appOctokit(pem);
    await readBranch(octokit);
    server?.inject({ kind: 'bad-credentials', method: 'GET', path: /\/git\/ref\// });

    const { status } = await readBranch(octokit);

    expect(status).toBe(200);
    expect(tokenRequests()).toBe(2);
  });

  it('gives up after one fresh token is refused too, with GitHub’s 401', async () => {
    const octokit = await appOctokit(pem);
    await readBranch(octokit);
    server?.inject({ kind: 'bad-credentials', method: 'GET', path: /\/git\/ref\//, times: 2 });

    await expect(readBranch(octokit)).rejects.toMatchObject({ status: 401 });
    expect(tokenRequests()).toBe(2);
  });

  it('fails with GitHub’s 401 when the private key is not the app’s, and sends no other request', async () => {
    const octokit = await appOctokit(otherPem);

    await expect(readBranch(octokit)).rejects.toMatchObject({ status: 401 });
    expect(server?.stats.requests.map((r) => r.route)).toEqual([TOKEN_ROUTE]);
  });
});

/**
 * GitHub Enterprise Server serves the API under `/api/v3`. A local server in its place records which
 * credential each request carried.
 */
describe('authenticateAsInstallation on GitHub Enterprise Server', () => {
  let enterprise: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => enterprise?.close(resolve));
    enterprise = undefined;
  });

  async function enterpriseOctokit() {
    const seen: { path: string; scheme: string }[] = [];
    enterprise = createServer((request, response) => {
      const path = request.url ?? '';
      seen.push({ path, scheme: (request.headers.authorization ?? 'none').split(' ')[0] ?? '' });
      const minted = path.endsWith('/access_tokens');
      response
        .writeHead(minted ? 201 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify(minted ? { token: 'ghs_ghe', expires_at: '2999-01-01T00:00:00Z' } : {}));
    });
    await new Promise<void>((resolve) => enterprise?.listen(0, '127.0.0.1', resolve));
    const { port } = enterprise.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    const octokit = new Octokit({ baseUrl: `${origin}/api/v3`, request: { retries: 0 } });
    authenticateAsInstallation(octokit, { ...APP, privateKey: pem });
    return { octokit, seen, origin };
  }

  it('sends the app JWT to /api/v3/app… whether the route is a template or an absolute URL', async () => {
    const { octokit, seen, origin } = await enterpriseOctokit();

    await octokit.request('GET /repos/{owner}/{repo}', { owner: OWNER, repo: REPO });
    await octokit.request('GET /app');
    await octokit.request(`GET ${origin}/api/v3/app`);
    await octokit.request(`GET ${origin}/api/v3/repos/${OWNER}/${REPO}`);

    expect(seen).toEqual([
      { path: '/api/v3/app/installations/99/access_tokens', scheme: 'bearer' },
      { path: `/api/v3/repos/${OWNER}/${REPO}`, scheme: 'token' },
      { path: '/api/v3/app', scheme: 'bearer' },
      { path: '/api/v3/app', scheme: 'bearer' },
      { path: `/api/v3/repos/${OWNER}/${REPO}`, scheme: 'token' },
    ]);
  });

  it('sends no credential to a URL outside the API base URL', async () => {
    const { octokit, seen, origin } = await enterpriseOctokit();

    await octokit.request(`GET ${origin}/elsewhere/app`);
    await octokit.request(`GET ${origin.replace('127.0.0.1', 'localhost')}/api/v3/repos/${OWNER}/${REPO}`);

    expect(seen).toEqual([
      { path: '/elsewhere/app', scheme: 'none' },
      { path: `/api/v3/repos/${OWNER}/${REPO}`, scheme: 'none' },
    ]);
  });
});
