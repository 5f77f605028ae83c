/**
 * A GitHub App as GitHub knows it: its id and public key, the owners (users or organizations) it is
 * installed on, and the installation tokens it issued. An installation token reaches the repositories
 * of its installation's owner only. One instance shared by several stand-ins (one repository each)
 * is one app installed on several owners.
 */
import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';

export interface GitHubAppInstallation {
  readonly id: string | number;
  /** The user or organization login the app is installed on. */
  readonly owner: string;
  /** @default 'Organization' */
  readonly type?: 'Organization' | 'User';
}

export interface GitHubAppSpec {
  readonly appId: string | number;
  /** The app's private key (PEM); JWTs are verified with its public half. */
  readonly privateKey: string;
  readonly installations: readonly GitHubAppInstallation[];
}

const TOKEN_LIFETIME_MS = 3_600_000;

export class GitHubApp {
  readonly appId: string;
  private readonly publicKey: KeyObject;
  private readonly installations: readonly GitHubAppInstallation[];
  /** Installation tokens issued: the installation they act for and when they expire (epoch ms). */
  private readonly tokens = new Map<string, { installation: GitHubAppInstallation; expiresAt: number }>();

  constructor(spec: GitHubAppSpec) {
    this.appId = String(spec.appId);
    this.publicKey = createPublicKey(spec.privateKey);
    this.installations = spec.installations;
  }

  /** An app JWT signed with the app's key, issued by its id, not expired. */
  verifies(jwt: string): boolean {
    return verifyAppJwt(jwt, this.appId, this.publicKey);
  }

  /** The installation on an owner (GitHub's logins are case-insensitive), or undefined. */
  installationOn(owner: string): GitHubAppInstallation | undefined {
    return this.installations.find(
      (installation) => installation.owner.toLowerCase() === owner.toLowerCase(),
    );
  }

  /** A new token for one of the app's installations, or undefined for an id it does not have. */
  issueToken(installationId: string): { token: string; expiresAt: number } | undefined {
    const installation = this.installations.find(({ id }) => String(id) === installationId);
    if (!installation) return undefined;
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = Date.now() + TOKEN_LIFETIME_MS;
    this.tokens.set(token, { installation, expiresAt });
    return { token, expiresAt };
  }

  /** The owner whose repositories a token reaches; undefined for an unknown or expired token. */
  tokenOwner(token: string): string | undefined {
    const issued = this.tokens.get(token);
    return issued && issued.expiresAt > Date.now() ? issued.installation.owner : undefined;
  }

  /** The installation as GitHub's REST API describes it. */
  describe(installation: GitHubAppInstallation, base: string): Record<string, unknown> {
    const type = installation.type ?? 'Organization';
    const accountId = Number.parseInt(
      Buffer.from(installation.owner.toLowerCase()).toString('hex').slice(0, 8),
      16,
    );
    return {
      id: Number(installation.id),
      account: {
        login: installation.owner,
        id: accountId,
        type,
        url: `${base}/${type === 'User' ? 'users' : 'orgs'}/${installation.owner}`,
      },
      repository_selection: 'all',
      access_tokens_url: `${base}/app/installations/${installation.id}/access_tokens`,
      repositories_url: `${base}/installation/repositories`,
      app_id: Number(this.appId),
      app_slug: 'shiplane',
      target_id: accountId,
      target_type: type,
      permissions: { contents: 'write', metadata: 'read', pull_requests: 'write' },
      events: [],
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      single_file_name: null,
      suspended_at: null,
    };
  }
}

/** Verifies an app JWT (RS256, issuer = app id, not expired, at most ten minutes long) as GitHub does. */
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
