/**
 * Authenticates an Octokit as a GitHub App installation, as GitHub documents it: `/app…` routes
 * carry an app JWT (RS256, issuer = the app id, issued 60 s in the past against clock drift, 9 min
 * long — GitHub allows 10), every other request an installation token from
 * `POST /app/installations/{installation_id}/access_tokens`, cached until 5 min before it expires.
 * Routes are read below the base URL (GitHub Enterprise Server's `/api/v3`), and a request to a URL
 * outside it carries no credential at all.
 *
 * Written here rather than taken from `@octokit/auth-app`, which also carries the OAuth user and
 * device flows Shiplane never uses: about 19 KB of the committer's bundle (see README, performance).
 * The token request runs through the client's own plugins (retry, throttling, deadline).
 */
import { createSign } from 'node:crypto';
import type { Octokit } from '@octokit/core';

export interface AppInstallation {
  readonly appId: string | number;
  readonly installationId: string | number;
  /** PEM (PKCS#1 or PKCS#8), as GitHub hands it out. */
  readonly privateKey: string;
}

/** How long before an installation token expires it is replaced. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const JWT_BACKDATE_S = 60;
const JWT_LIFETIME_S = 9 * 60;

const APP_ROUTE = /^\/app(\/|$)/;

/** An app JWT (RS256) for `now`. */
export function appJwt(app: Pick<AppInstallation, 'appId' | 'privateKey'>, now = Date.now()): string {
  const iat = Math.floor(now / 1000) - JWT_BACKDATE_S;
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({
    iat,
    exp: iat + JWT_LIFETIME_S,
    iss: String(app.appId),
  })}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(app.privateKey, 'base64url');
  return `${unsigned}.${signature}`;
}

/**
 * The API route of a request URL (`/app/installations/1/access_tokens`): a relative URL as it is, an
 * absolute one with the base URL's path taken off (GitHub Enterprise Server serves the API under
 * `/api/v3`). Undefined for an absolute URL outside the base URL: no credential is sent there.
 */
function routeOf(url: string, baseUrl: string): string | undefined {
  if (url.startsWith('/')) return url.split('?')[0] ?? url;
  const target = new URL(url);
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  if (target.origin !== base.origin) return undefined;
  if (target.pathname === prefix) return '/';
  return target.pathname.startsWith(`${prefix}/`) ? target.pathname.slice(prefix.length) : undefined;
}

/**
 * Adds the installation's credentials to every request the Octokit makes. A 401 on a token it
 * minted (revoked, or not yet replicated) drops the token and retries the request once with a new one.
 */
export function authenticateAsInstallation(
  octokit: Octokit,
  app: AppInstallation,
  now: () => number = Date.now,
): void {
  let cached: { token: string; refreshAt: number } | undefined;
  let minting: Promise<string> | undefined;

  const mint = async (): Promise<string> => {
    const { data } = await octokit.request('POST /app/installations/{installation_id}/access_tokens', {
      installation_id: Number(app.installationId),
    });
    const expiresAt = Date.parse(data.expires_at);
    cached = {
      token: data.token,
      refreshAt: (Number.isNaN(expiresAt) ? now() + 3_600_000 : expiresAt) - REFRESH_MARGIN_MS,
    };
    return data.token;
  };
  // Concurrent requests share one token request.
  const installationToken = (): Promise<string> => {
    if (cached && cached.refreshAt > now()) return Promise.resolve(cached.token);
    minting ??= mint().finally(() => {
      minting = undefined;
    });
    return minting;
  };

  octokit.hook.wrap('request', async (request, options) => {
    const route = routeOf(options.url, options.baseUrl);
    if (route === undefined) return request(options);
    if (APP_ROUTE.test(route)) {
      options.headers.authorization = `bearer ${appJwt(app, now())}`;
      return request(options);
    }
    const token = await installationToken();
    options.headers.authorization = `token ${token}`;
    try {
      return await request(options);
    } catch (error) {
      if ((error as { status?: number }).status !== 401 || cached?.token !== token) throw error;
      cached = undefined;
      options.headers.authorization = `token ${await installationToken()}`;
      return request(options);
    }
  });
}
