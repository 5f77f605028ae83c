/**
 * Authenticates an Octokit as a GitHub App, as GitHub documents it: the app's own routes (`/app…`
 * and the installation lookups) carry an app JWT (RS256, issuer = the app id, issued 60 s in the
 * past against clock drift, 9 min long — GitHub allows 10), every other request an installation
 * token from `POST /app/installations/{installation_id}/access_tokens`, cached until 5 min before it
 * expires. Routes are read below the base URL (GitHub Enterprise Server's `/api/v3`), and a request
 * to a URL outside it carries no credential at all.
 *
 * An installation belongs to one owner (user or organization) and its token reaches that owner's
 * repositories only. So the installation is per owner: a request to `/repos/{owner}/{repo}/…` uses
 * the installation on `{owner}`, found once with `GET /repos/{owner}/{repo}/installation` (404: the
 * app is not installed there) and kept; tokens are kept per installation. A configured installation
 * id is the one on its owner's account and saves that lookup.
 *
 * Written here rather than taken from `@octokit/auth-app`, which also carries the OAuth user and
 * device flows Shiplane never uses: about 19 KB of the committer's bundle (see README, performance).
 * The token request runs through the client's own plugins (retry, throttling, deadline).
 */
import { createSign } from 'node:crypto';
import type { Octokit } from '@octokit/core';
import { TerminalError } from '../../errors.js';

export interface AppInstallation {
  readonly appId: string | number;
  /**
   * The installation on `installationOwner`'s account, known in advance (no lookup for that owner).
   * Without an owner it is used for every request, as one installation reaching everything.
   * @default looked up per owner
   */
  readonly installationId?: string | number | undefined;
  /** The account (user or organization) `installationId` is installed on: the GitOps repository's owner. */
  readonly installationOwner?: string | undefined;
  /** Where requests that name no repository (none of Shiplane's) find their installation: `owner/name`. */
  readonly homeRepository?: string | undefined;
  /** PEM (PKCS#1 or PKCS#8), as GitHub hands it out. */
  readonly privateKey: string;
}

/** The app is not installed on the owner of a repository Shiplane must reach. */
export class GitHubAppNotInstalledError extends TerminalError {
  override name = 'GitHubAppNotInstalledError';
}

/** How long before an installation token expires it is replaced. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const JWT_BACKDATE_S = 60;
const JWT_LIFETIME_S = 9 * 60;

/** The app's own routes, which GitHub authenticates with the app JWT. */
const APP_ROUTE = /^\/(app(\/|$)|repos\/[^/]+\/[^/]+\/installation$|(orgs|users)\/[^/]+\/installation$)/;
const REPOSITORY_ROUTE = /^\/repos\/([^/]+)\/([^/]+)/;

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

/** A route template with its `{name}` parameters filled in, as the request will send it. */
function expand(url: string, parameters: Record<string, unknown>): string {
  return url.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = parameters[name];
    return typeof value === 'string' || typeof value === 'number' ? encodeURIComponent(value) : whole;
  });
}

/**
 * Adds the app's credentials to every request the Octokit makes: the installation on the owner of
 * the repository a request names. A 401 on a token it minted (revoked, or not yet replicated) drops
 * the token and retries the request once with a new one.
 */
export function authenticateAsInstallation(
  octokit: Octokit,
  app: AppInstallation,
  now: () => number = Date.now,
): void {
  /** Installation ids by owner (lower case: GitHub's logins are case-insensitive); lookups in flight shared. */
  const installations = new Map<string, Promise<string>>();
  /** Tokens by installation id, and token requests in flight. */
  const tokens = new Map<string, { token: string; refreshAt: number }>();
  const minting = new Map<string, Promise<string>>();
  const pinned = app.installationId === undefined ? undefined : String(app.installationId);
  if (pinned !== undefined && app.installationOwner !== undefined) {
    installations.set(app.installationOwner.toLowerCase(), Promise.resolve(pinned));
  }

  const lookUp = async (owner: string, repo: string): Promise<string> => {
    try {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/installation', { owner, repo });
      return String(data.id);
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
      throw new GitHubAppNotInstalledError(
        `GitHub App ${app.appId} is not installed on ${owner} (GET /repos/${owner}/${repo}/installation answered 404): install the app on the ${owner} account with contents: write on ${owner}/${repo}, or move the repository under an owner it is installed on`,
        { cause: error },
      );
    }
  };

  /** The installation a request to this repository uses. */
  const installationFor = (owner: string, repo: string): Promise<string> => {
    if (pinned !== undefined && app.installationOwner === undefined) return Promise.resolve(pinned);
    const key = owner.toLowerCase();
    let found = installations.get(key);
    if (!found) {
      found = lookUp(owner, repo);
      installations.set(key, found);
      // A failed lookup is asked again next time: the app may have been installed meanwhile.
      found.catch(() => installations.delete(key));
    }
    return found;
  };

  const mint = async (installationId: string): Promise<string> => {
    const { data } = await octokit.request('POST /app/installations/{installation_id}/access_tokens', {
      installation_id: Number(installationId),
    });
    const expiresAt = Date.parse(data.expires_at);
    tokens.set(installationId, {
      token: data.token,
      refreshAt: (Number.isNaN(expiresAt) ? now() + 3_600_000 : expiresAt) - REFRESH_MARGIN_MS,
    });
    return data.token;
  };
  // Concurrent requests share one token request per installation.
  const installationToken = (installationId: string): Promise<string> => {
    const cached = tokens.get(installationId);
    if (cached && cached.refreshAt > now()) return Promise.resolve(cached.token);
    let pending = minting.get(installationId);
    if (!pending) {
      pending = mint(installationId).finally(() => minting.delete(installationId));
      minting.set(installationId, pending);
    }
    return pending;
  };

  const home = app.homeRepository?.split('/');
  octokit.hook.wrap('request', async (request, options) => {
    const route = routeOf(expand(options.url, options), options.baseUrl);
    if (route === undefined) return request(options);
    if (APP_ROUTE.test(route)) {
      options.headers.authorization = `bearer ${appJwt(app, now())}`;
      return request(options);
    }
    const [, owner, repo] = REPOSITORY_ROUTE.exec(route) ?? [undefined, home?.[0], home?.[1]];
    let installationId: string;
    if (owner && repo) installationId = await installationFor(owner, repo);
    else if (pinned !== undefined) installationId = pinned;
    else {
      throw new GitHubAppNotInstalledError(
        `${options.method} ${route} names no repository, and GitHub App ${app.appId} has neither an installation id nor a home repository to tell which installation to use`,
      );
    }
    let token: string;
    try {
      token = await installationToken(installationId);
    } catch (error) {
      // The installation is gone (the app was uninstalled): look it up again next time.
      if ((error as { status?: number }).status === 404 && owner) installations.delete(owner.toLowerCase());
      throw error;
    }
    options.headers.authorization = `token ${token}`;
    try {
      return await request(options);
    } catch (error) {
      if ((error as { status?: number }).status !== 401 || tokens.get(installationId)?.token !== token) {
        throw error;
      }
      tokens.delete(installationId);
      options.headers.authorization = `token ${await installationToken(installationId)}`;
      return request(options);
    }
  });
}
