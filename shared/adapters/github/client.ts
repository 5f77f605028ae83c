/**
 * The GitHub client every Shiplane function uses: Octokit with the retry and throttling plugins,
 * authenticated by a token or as a GitHub App installation, against github.com or GitHub Enterprise.
 *
 * - `@octokit/core` plus `octokit.request('VERB /route', …)`, not `@octokit/rest`: the REST
 *   package adds a generated method for every GitHub endpoint (about 80 KB minified in each Lambda
 *   bundle) to call the handful of routes Shiplane uses. The request log plugin `@octokit/rest`
 *   carried is kept, so request lines still reach the `log`.
 *
 * - 5xx and network errors are retried with back-off; 409 and 422 are answers (a stale sha, a ref
 *   that is not a fast-forward), never retried blindly.
 * - Rate limits (primary and secondary) wait for `retry-after` / the reset time, a bounded number of
 *   times; a longer wait fails the request so the caller can hand the work back to its queue. Work
 *   run under a deadline (withGitHubDeadline) never waits past it, starts no request after it and
 *   aborts a request still running at it.
 * - Content-creating requests are spaced (GitHub asks for one second between them).
 * - Secrets are references: the token is resolved on every request through the (caching) secret
 *   resolver, so a rotated token is picked up without a cold start.
 */
import { Octokit } from '@octokit/core';
import { requestLog } from '@octokit/plugin-request-log';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck/light.js';
import type { Config } from '../../config/schema.js';
import { formatSecretRef } from '../../config/secret-ref.js';
import { currentGitHubDeadline, GitHubDeadlineError } from '../../ports/deadline.js';
import type { SecretResolver } from '../aws/secrets.js';
import { authenticateAsInstallation } from './app-installation-auth.js';

/** Where a request's deadline rides in its `request` options, from the outermost hook to the inner ones. */
const DEADLINE = 'shiplaneDeadline';

const deadlineOf = (options: { request?: Record<string, unknown> }): number | undefined => {
  const value = options.request?.[DEADLINE];
  return typeof value === 'number' ? value : undefined;
};

/**
 * Innermost: every attempt (first try and each retry) checks the deadline before it goes out and is
 * aborted when the deadline comes. Registered first, so it wraps the bare HTTP request.
 */
function deadlineGuard(octokit: Octokit): void {
  octokit.hook.wrap('request', async (request, options) => {
    const deadline = deadlineOf(options);
    if (deadline === undefined) return request(options);
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new GitHubDeadlineError(
        `no time left for ${options.method} ${options.url}: the work's deadline passed; it will be retried later`,
      );
    }
    const timeout = AbortSignal.timeout(left);
    const signal = options.request?.signal ? AbortSignal.any([options.request.signal, timeout]) : timeout;
    // Hooks share one options object per request (before-after-hook binds it): replace its
    // `request` (never mutate it, it may be the client's defaults) so the attempt sees the signal.
    options.request = { ...options.request, signal };
    return request(options);
  });
}

/** The retry plugin's `retry` options, as far as the notice below reads them. */
interface RetrySettings {
  readonly retries?: number;
  readonly retryAfterBaseValue?: number;
  readonly doNotRetry?: readonly number[];
}

/**
 * Innermost, under the deadline guard: says on `log.warn` that an attempt failed and when the retry
 * plugin will try again (it waits (retry count + 1)² × its base, see @octokit/plugin-retry), so a
 * GitHub that does not answer is never minutes of silence. It mirrors the plugin's rule: a status of
 * 400 or more not in `doNotRetry` (a network error arrives as status 500), while retries remain.
 */
function retryNotice(octokit: Octokit, options: { retry?: RetrySettings }): void {
  const settings = options.retry ?? {};
  octokit.hook.wrap('request', async (request, requestOptions) => {
    try {
      return await request(requestOptions);
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      const done = Number((requestOptions.request as { retryCount?: number } | undefined)?.retryCount ?? 0);
      const retries = settings.retries ?? 3;
      const retryable =
        typeof status === 'number' && status >= 400 && !(settings.doNotRetry ?? []).includes(status);
      if (retryable && done < retries) {
        const waitMs = (done + 1) ** 2 * (settings.retryAfterBaseValue ?? 1000);
        octokit.log.warn(
          `GitHub ${requestOptions.method} ${requestOptions.url} failed (${status}: ${(error as Error).message}); retry ${done + 1} of ${retries} in ${waitMs / 1000}s`,
        );
      }
      throw error;
    }
  });
}

const ShiplaneOctokit = Octokit.plugin(retryNotice, deadlineGuard, requestLog, retry, throttling);
/** Octokit with the request log, retry and throttling plugins. */
export type GitHubOctokit = InstanceType<typeof ShiplaneOctokit>;

/** The config's `gitops.github` block: apiUrl plus a token or app, as secret references. */
export type GitHubSettings = Config['gitops']['github'];

/** Where Octokit's own messages go; Powertools' Logger fits. */
export interface GitHubLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface GitHubClientOptions {
  /** Resolves the token / private key references. */
  readonly resolveSecret: SecretResolver;
  /** Retries of a request that failed with 5xx or a network error. @default 3 */
  readonly retries?: number;
  /** The retry plugin waits (attempt + 1)² × this many milliseconds. @default 1000 */
  readonly retryBaseMs?: number;
  /** Times a rate-limited request is retried after waiting. @default 2 */
  readonly rateLimitRetries?: number;
  /** Longest rate-limit wait honoured, in seconds; longer ones fail the request. @default 60 */
  readonly maxRateLimitWaitSeconds?: number;
  /** Milliseconds waited per second of `retry-after` (tests shrink it). @default 1000 */
  readonly rateLimitSecondMs?: number;
  /** Least time between two content-creating requests of this client, in ms. @default 1000 */
  readonly minWriteIntervalMs?: number;
  /**
   * Least time between two requests that notify people (opening or merging a pull request, a
   * comment, a review request), in ms; the throttling plugin's own default. @default 3000
   */
  readonly minNotificationIntervalMs?: number;
  readonly log?: GitHubLog;
  /**
   * The GitOps repository (`gitops.repository`): with a GitHub App, the owner `app.installationId` is
   * installed on; every other owner's installation is looked up. Without it a configured installation
   * id serves every request.
   */
  readonly homeRepository?: string;
  /** @default 'shiplane' */
  readonly userAgent?: string;
}

const quietLog: GitHubLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.warn(message),
  error: () => undefined,
};

/** Says which credential is in use, for error messages (never the secret itself). */
export function describeCredentials(settings: GitHubSettings): string {
  if (settings.app) {
    const installation =
      settings.app.installationId === undefined
        ? 'installation looked up per owner'
        : `installation ${settings.app.installationId}`;
    return `GitHub App ${settings.app.appId} (${installation}, private key ${formatSecretRef(settings.app.privateKey)})`;
  }
  return settings.token ? `the token in ${formatSecretRef(settings.token)}` : 'no credentials';
}

/** Builds the client. With a GitHub App, the private key is read once here; tokens are read per request. */
export async function createGitHubOctokit(
  settings: GitHubSettings,
  options: GitHubClientOptions,
): Promise<GitHubOctokit> {
  const log = options.log ?? quietLog;
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  const maxWait = options.maxRateLimitWaitSeconds ?? 60;
  const secondMs = options.rateLimitSecondMs ?? 1000;
  const onLimit =
    (kind: string) =>
    (
      retryAfter: number,
      request: { method: string; url: string; request?: Record<string, unknown> },
      _o: unknown,
      count: number,
    ) => {
      const deadline = deadlineOf(request);
      // Waiting past the deadline would outlast the function (or the run's wait for it): give up now
      // and let the caller hand the work back to its queue.
      const fits = deadline === undefined || Date.now() + retryAfter * secondMs < deadline;
      const again = count < rateLimitRetries && retryAfter <= maxWait && fits;
      const why = fits
        ? 'giving up'
        : `giving up: a ${retryAfter}s wait would outlast the ${Math.max(0, Math.floor(((deadline ?? 0) - Date.now()) / secondMs))}s left`;
      log.warn(
        `GitHub ${kind} on ${request.method} ${request.url}: ${again ? `retrying after ${retryAfter}s` : why} (attempt ${count + 1})`,
      );
      return again;
    };

  const common = {
    baseUrl: settings.apiUrl.replace(/\/+$/, ''),
    userAgent: options.userAgent ?? 'shiplane',
    log,
    retry: {
      // Rate limits (403/429) belong to the throttling plugin; 405 (a merge GitHub will not make
      // yet), 409 and 422 are answers, not outages.
      doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451],
      retries: options.retries ?? 3,
      retryAfterBaseValue: options.retryBaseMs ?? 1000,
    },
    throttle: {
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      retryAfterBaseValue: secondMs,
      // One group per client: writes are spaced per client, not across every Octokit in the process.
      id: `shiplane-${Math.random().toString(36).slice(2)}`,
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.minWriteIntervalMs ?? 1000 }),
      notifications: new Bottleneck.Group({
        maxConcurrent: 1,
        minTime: options.minNotificationIntervalMs ?? 3000,
      }),
    },
  };

  if (settings.app) {
    const privateKey = await options.resolveSecret(settings.app.privateKey);
    const octokit = new ShiplaneOctokit(common);
    const home = options.homeRepository;
    authenticateAsInstallation(octokit, {
      ...settings.app,
      privateKey,
      ...(home ? { homeRepository: home, installationOwner: home.split('/')[0] } : {}),
    });
    return carryDeadline(octokit);
  }
  const tokenRef = settings.token;
  if (!tokenRef) throw new Error('gitops.github needs a token or an app');
  const octokit = new ShiplaneOctokit(common);
  octokit.hook.before('request', async (request) => {
    request.headers.authorization = `token ${await options.resolveSecret(tokenRef)}`;
  });
  return carryDeadline(octokit);
}

/**
 * Outermost (registered after the plugins): copies the caller's deadline into the request options,
 * where the rate-limit handler and the inner guard read it, whatever async context they run in.
 */
function carryDeadline(octokit: GitHubOctokit): GitHubOctokit {
  octokit.hook.wrap('request', (request, options) => {
    const deadline = currentGitHubDeadline();
    // The inner hooks see this very options object; a fresh `request` keeps the client's defaults clean.
    if (deadline !== undefined) options.request = { ...options.request, [DEADLINE]: deadline };
    return request(options);
  });
  return octokit;
}

/** A GitHub client together with what it is, for error messages that say what to check. */
export interface GitHubConnection {
  /** Best built by createGitHubOctokit; any Octokit works (`@octokit/rest`'s too). */
  readonly octokit: Octokit;
  /** e.g. `the token in secret:shiplane/github-token`. */
  readonly credentials: string;
  readonly apiUrl: string;
}

/** Builds the client from the config's `gitops.github` block. */
export async function connectGitHub(
  settings: GitHubSettings,
  options: GitHubClientOptions,
): Promise<GitHubConnection> {
  return {
    octokit: await createGitHubOctokit(settings, options),
    credentials: describeCredentials(settings),
    apiUrl: settings.apiUrl,
  };
}
