/**
 * A small Argo CD REST client on Node's fetch: read an Application (asking for a refresh, so a new
 * commit is seen now rather than after the 2–3 minute reconciliation) and request a sync. Every call
 * has a timeout; network errors, 429 and 5xx are retried with exponential backoff; 401/403/404 are
 * terminal errors that name the app and what to check. The token is resolved per call through the
 * secret resolver, which caches it.
 */

import type { SecretRef } from '../../config/secret-ref.js';
import { formatSecretRef } from '../../config/secret-ref.js';
import { type Application, applicationSchema } from '../../domain/argocd-application.js';
import type { AppLocator, ArgoCdClient } from '../../ports/argocd.js';
import {
  ArgoCdAppNotFoundError,
  ArgoCdAuthenticationError,
  ArgoCdOperationInProgressError,
  ArgoCdPermissionError,
  ArgoCdRequestError,
  ArgoCdUnreachableError,
} from '../../ports/argocd.js';
import type { SecretResolver } from '../aws/secrets.js';

export interface ArgoCdClientOptions {
  /** Argo CD server URL, e.g. https://argocd.example.com (a path prefix is kept). */
  readonly url: string;
  /** The API token's secret reference. */
  readonly token: SecretRef;
  readonly resolveSecret: SecretResolver;
  /** Per-request timeout in milliseconds. @default 8000 */
  readonly timeoutMs?: number;
  /** Attempts per call, the first included. @default 3 */
  readonly attempts?: number;
  /** First backoff in milliseconds, doubled after each failed attempt. @default 300 */
  readonly backoffMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * Told of each failed attempt that will be retried: what failed, which attempt, and the wait before
   * the next, so an Argo CD that does not answer is never minutes of silence. No token, no credentials.
   */
  readonly onRetry?: (notice: string) => void;
}

interface ErrorBody {
  readonly error?: string;
  readonly message?: string;
  readonly code?: number;
}

export function createArgoCdClient(options: ArgoCdClientOptions): ArgoCdClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 8_000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoffMs = options.backoffMs ?? 300;
  const doFetch = options.fetch ?? globalThis.fetch;
  const tokenName = formatSecretRef(options.token);
  const shownBase = withoutCredentials(base);

  /** Sends one logical call, retrying transient failures; returns the final Response (2xx or 4xx). */
  async function send(method: 'GET' | 'POST', path: string, body: unknown, what: string): Promise<Response> {
    const token = await options.resolveSecret(options.token);
    let lastProblem = 'no attempt made';
    /** After a failed attempt: say so and wait, if another attempt follows. */
    const afterFailure = async (attempt: number): Promise<void> => {
      if (attempt >= attempts) return;
      const waitMs = backoffMs * 2 ** (attempt - 1);
      options.onRetry?.(
        `Argo CD at ${shownBase} unreachable for ${what} (attempt ${attempt} of ${attempts}: ${lastProblem}); retrying in ${waitMs / 1000} s`,
      );
      await sleep(waitMs);
    };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let response: Response;
      try {
        response = await doFetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        // fetch names the whole URL in some errors (one with credentials in it, which it refuses).
        lastProblem = describeFetchError(error, timeoutMs).split(base).join(shownBase);
        await afterFailure(attempt);
        continue;
      }
      if (response.status >= 500 || response.status === 429) {
        lastProblem = `HTTP ${response.status}${await errorText(response)}`;
        await afterFailure(attempt);
        continue;
      }
      return response;
    }
    throw new ArgoCdUnreachableError(
      `Argo CD at ${shownBase} was unreachable for ${what} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${lastProblem}`,
    );
  }

  /** Turns a 4xx into the terminal error that says what to check. */
  async function failure(
    response: Response,
    app: string,
    action: string,
    locator: AppLocator,
  ): Promise<Error> {
    const detail = await errorText(response);
    const where = locator.appNamespace ? ` in namespace ${locator.appNamespace}` : '';
    const project = locator.project ? `project ${locator.project}` : "the app's project";
    switch (response.status) {
      case 401:
        return new ArgoCdAuthenticationError(
          `Argo CD rejected the token when asked to ${action} application ${app} (401${detail}): check that ${tokenName} holds a valid, unexpired Argo CD API token for ${base}`,
        );
      case 403:
        return new ArgoCdPermissionError(
          `Argo CD denied ${action} on application ${app}${where} (403${detail}): check that the token's role in ${project} allows applications, get${action === 'sync' ? ' and sync' : ''} on it, and that the app name and project are right (Argo CD also answers 403 for apps it hides)`,
        );
      case 404:
        return new ArgoCdAppNotFoundError(
          `Argo CD has no application ${app}${where} (404${detail}): check the stage's argocdApp${locator.appNamespace ? ' and appNamespace' : ''} against \`argocd app list\``,
        );
      default:
        return new ArgoCdRequestError(
          `Argo CD refused to ${action} application ${app} (HTTP ${response.status}${detail})`,
          response.status,
        );
    }
  }

  async function readApplication(response: Response, app: string, action: string): Promise<Application> {
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw new ArgoCdRequestError(
        `Argo CD at ${base} answered ${action} of ${app} with something that is not JSON (HTTP ${response.status}): check argocd.url points at the Argo CD server`,
        response.status,
        { cause: error },
      );
    }
    const parsed = applicationSchema.safeParse(json);
    if (!parsed.success) {
      throw new ArgoCdRequestError(
        `Argo CD at ${base} answered ${action} of ${app} with JSON that is not an Application: ${parsed.error.issues[0]?.message ?? 'unknown shape'}`,
        response.status,
      );
    }
    return parsed.data;
  }

  return {
    url: base,

    async getApplication(name, getOptions = {}) {
      const query = new URLSearchParams();
      if (getOptions.refresh) query.set('refresh', getOptions.refresh);
      if (getOptions.project) query.set('project', getOptions.project);
      if (getOptions.appNamespace) query.set('appNamespace', getOptions.appNamespace);
      const search = query.size > 0 ? `?${query}` : '';
      const response = await send(
        'GET',
        `/api/v1/applications/${encodeURIComponent(name)}${search}`,
        undefined,
        `reading ${name}`,
      );
      if (!response.ok) throw await failure(response, name, 'get', getOptions);
      return readApplication(response, name, 'reading');
    },

    async syncApplication(name, syncOptions) {
      const body = {
        name,
        revision: syncOptions.revision,
        prune: syncOptions.prune ?? false,
        ...(syncOptions.project ? { project: syncOptions.project } : {}),
        ...(syncOptions.appNamespace ? { appNamespace: syncOptions.appNamespace } : {}),
      };
      const response = await send(
        'POST',
        `/api/v1/applications/${encodeURIComponent(name)}/sync`,
        body,
        `syncing ${name}`,
      );
      if (response.status === 400 || response.status === 409) {
        const text = await response.text();
        if (/operation is already in progress/i.test(text)) {
          throw new ArgoCdOperationInProgressError(`Argo CD is already running an operation on ${name}`);
        }
        throw new ArgoCdRequestError(
          `Argo CD refused to sync application ${name} to ${syncOptions.revision} (HTTP ${response.status}: ${summarize(text)})`,
          response.status,
        );
      }
      if (!response.ok) throw await failure(response, name, 'sync', syncOptions);
      return readApplication(response, name, 'the sync');
    },
  };
}

/** `: message` from Argo CD's grpc-gateway error body `{error, code, message}`, or a short text excerpt. */
async function errorText(response: Response): Promise<string> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return '';
  }
  const summary = summarize(text);
  return summary ? `: ${summary}` : '';
}

function summarize(text: string): string {
  try {
    const body = JSON.parse(text) as ErrorBody;
    const message = body.message || body.error;
    if (typeof message === 'string') return message.slice(0, 200);
  } catch {
    // Not JSON (a proxy's HTML page): fall through to a short excerpt.
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 120);
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message ?? 'fetch failed'} (${cause})` : (err.message ?? String(error));
}

/** The URL as a notice may show it: any user and password in it removed. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
