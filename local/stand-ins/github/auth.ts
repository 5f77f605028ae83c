/**
 * Who may call the GitHub stand-in: a personal access token, or a GitHub App — its JWT (verified with
 * the app's public key) on the app's own routes (`/app/…` and the installation lookups), and an
 * installation token it issued everywhere else. An installation token reaches its owner's
 * repositories only: on another owner's repository GitHub answers 404, as for a private repository
 * the credential cannot see.
 */
import type { IncomingMessage } from 'node:http';
import { GitHubApiError } from './errors.js';
import type { GitIdentity } from './git-store.js';
import { GitHubApp } from './github-app.js';

export { verifyAppJwt } from './github-app.js';

/** One app installed on the served repository's owner (a shared GitHubApp can be installed on several). */
export interface GitHubAppOptions {
  readonly appId: string | number;
  readonly installationId: string | number;
  /** The app's private key (PEM); the server verifies JWTs with its public half. */
  readonly privateKey: string;
}

/** Commits made with an installation token are the app's bot's. */
const APP_BOT: GitIdentity = { name: 'shiplane[bot]', email: 'shiplane[bot]@users.noreply.github.com' };

/** Routes GitHub authenticates with the app JWT rather than a token. */
const APP_JWT_ROUTE = /^\/(app(\/|$)|repos\/[^/]+\/[^/]+\/installation$|(orgs|users)\/[^/]+\/installation$)/;

export class Credentials {
  /** The app whose JWTs and installation tokens are accepted, if any. */
  readonly app: GitHubApp | undefined;

  constructor(
    private readonly options: {
      readonly token?: string | undefined;
      readonly app?: GitHubAppOptions | GitHubApp | undefined;
      /** The served repository's owner: installation tokens of other owners do not reach it. */
      readonly owner: string;
      /** Whose commits API calls with the token make. */
      readonly identity: GitIdentity;
    },
  ) {
    const { app, owner } = options;
    this.app =
      app === undefined || app instanceof GitHubApp
        ? app
        : new GitHubApp({
            appId: app.appId,
            privateKey: app.privateKey,
            installations: [{ id: app.installationId, owner }],
          });
  }

  /** The identity a request acts as; 401 when its credentials are wrong. Without a token or app, anyone. */
  authenticate(path: string, headers: IncomingMessage['headers']): GitIdentity {
    const { token, identity, owner } = this.options;
    const { app } = this;
    if (!token && !app) return identity;
    const credential = (headers.authorization ?? '').replace(/^(token|bearer)\s+/i, '').trim();
    if (APP_JWT_ROUTE.test(path)) {
      if (!app?.verifies(credential)) {
        throw new GitHubApiError(401, 'A JSON web token could not be decoded');
      }
      return identity;
    }
    if (token && credential === token) return identity;
    const tokenOwner = app?.tokenOwner(credential);
    if (tokenOwner === undefined) throw new GitHubApiError(401, 'Bad credentials');
    if (tokenOwner.toLowerCase() !== owner.toLowerCase()) throw new GitHubApiError(404, 'Not Found');
    return APP_BOT;
  }
}
