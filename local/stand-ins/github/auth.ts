/**
 * Who may call the GitHub stand-in: a personal access token, an installation token it issued, or —
 * on `/app/…` routes — a GitHub App JWT it verifies with the app's public key (RS256, issuer = app id,
 * not expired, at most ten minutes long), as GitHub does.
 */
import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GitHubApiError } from './errors.js';
import type { GitIdentity } from './git-store.js';

export interface GitHubAppOptions {
  readonly appId: string | number;
  readonly installationId: string | number;
  /** The app's private key (PEM); the server verifies JWTs with its public half. */
  readonly privateKey: string;
}

/** Commits made with an installation token are the app's bot's. */
const APP_BOT: GitIdentity = { name: 'shiplane[bot]', email: 'shiplane[bot]@users.noreply.github.com' };
const TOKEN_LIFETIME_MS = 3_600_000;

export class Credentials {
  private readonly appPublicKey: KeyObject | undefined;
  /** Installation tokens issued, with when they expire (epoch ms). */
  private readonly installationTokens = new Map<string, number>();

  constructor(
    private readonly options: {
      readonly token?: string | undefined;
      readonly app?: GitHubAppOptions | undefined;
      /** Whose commits API calls with the token make. */
      readonly identity: GitIdentity;
    },
  ) {
    this.appPublicKey = options.app ? createPublicKey(options.app.privateKey) : undefined;
  }

  /** The identity a request acts as; 401 when its credentials are wrong. Without a token or app, anyone. */
  authenticate(path: string, headers: IncomingMessage['headers']): GitIdentity {
    const { token, app, identity } = this.options;
    if (!token && !app) return identity;
    const credential = (headers.authorization ?? '').replace(/^(token|bearer)\s+/i, '').trim();
    if (/^\/app(\/|$)/.test(path)) {
      if (!app || !this.appPublicKey || !verifyAppJwt(credential, app.appId, this.appPublicKey)) {
        throw new GitHubApiError(401, 'A JSON web token could not be decoded');
      }
      return identity;
    }
    if (token && credential === token) return identity;
    const expiry = this.installationTokens.get(credential);
    if (expiry !== undefined && expiry > Date.now()) return APP_BOT;
    throw new GitHubApiError(401, 'Bad credentials');
  }

  /** A new installation token for the app's installation, or undefined for another installation. */
  issueInstallationToken(installationId: string): { token: string; expiresAt: number } | undefined {
    const { app } = this.options;
    if (!app || String(app.installationId) !== installationId) return undefined;
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = Date.now() + TOKEN_LIFETIME_MS;
    this.installationTokens.set(token, expiresAt);
    return { token, expiresAt };
  }
}

/** Verifies an app JWT (RS256, issuer = app id, not expired) as GitHub does. */
export function verifyAppJwt(token: string, appId: string | number, key: KeyObject): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
      iss?: unknown;
      exp?: number;
      iat?: number;
    };
    if (head.alg !== 'RS256') return false;
    const valid = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      key,
      Buffer.from(signature, 'base64url'),
    );
    const now = Math.floor(Date.now() / 1000);
    return (
      valid &&
      String(claims.iss) === String(appId) &&
      typeof claims.exp === 'number' &&
      claims.exp > now &&
      claims.exp - (claims.iat ?? now) <= 600 + 60
    );
  } catch {
    return false;
  }
}
