/**
 * The Slack Web API calls Shiplane makes, through the official `@slack/web-api` WebClient. The base
 * URL comes from the config (`slack.apiUrl`), so the same code talks to Slack or to the local
 * stand-in. The bot token is read from its secret reference on first use and never logged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LogLevel, type RetryOptions, WebClient } from '@slack/web-api';
import type { SlackBlock } from './approval-message.js';

/** A Slack call that failed; `code` is Slack's `error` (e.g. `channel_not_found`) or the transport failure. */
export class SlackApiError extends Error {
  override name = 'SlackApiError';
  constructor(
    readonly method: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(`Slack ${method} failed: ${code}`, options);
  }
}

export interface PostedMessage {
  readonly channel: string;
  readonly ts: string;
}

/** The Web API calls the Slack chat (chat.ts) makes. */
export interface SlackApi {
  postMessage(input: {
    channel: string;
    text: string;
    blocks?: readonly SlackBlock[];
    threadTs?: string;
  }): Promise<PostedMessage>;
  /** Replaces a message's text and blocks (an empty block list removes them). */
  updateMessage(input: {
    channel: string;
    ts: string;
    text: string;
    blocks: readonly SlackBlock[];
  }): Promise<void>;
  /** A message only `user` sees, in the channel (and thread) given. */
  postEphemeral(input: { channel: string; user: string; text: string; threadTs?: string }): Promise<void>;
  /** The user ids in a user group (`usergroups.users.list`). */
  userGroupMembers(groupId: string): Promise<string[]>;
  /** Opens a modal for the user whose interaction gave `triggerId` (`views.open`; the trigger lasts 3 s). */
  openView(input: { triggerId: string; view: Record<string, unknown> }): Promise<void>;
}

export interface SlackWebApiOptions {
  /** `slack.apiUrl` from the config. */
  readonly apiUrl: string;
  /** Resolves the bot token (from its secret reference). Called on every request; cache upstream. */
  readonly token: () => Promise<string>;
  /** Retries of a failed call. Keep small where a person waits (the interaction endpoint). @default 2 */
  readonly retries?: number;
  /** Per-request timeout in milliseconds. @default 5000 */
  readonly timeoutMs?: number;
  /**
   * Told of each failed attempt that will be retried: the call, which attempt, why, and the wait
   * before the next, so a Slack that does not answer is never silence. No token, no credentials.
   */
  readonly onRetry?: (notice: string) => void;
}

/** What p-retry adds to the error of a failed attempt. */
type FailedAttempt = Error & { readonly attemptNumber: number; readonly retriesLeft: number };

function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown_error';
  const e = error as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown; original?: Error };
  if (typeof e.data?.error === 'string') return e.data.error;
  if (typeof e.statusCode === 'number') return `http_${e.statusCode}`;
  if (e.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (e.original) return `request_error: ${e.original.message}`;
  return (error as Error).name ?? 'unknown_error';
}

/** Why one attempt failed, as a notice may say it: the HTTP status, or the transport error and its code. */
function attemptProblem(error: unknown): string {
  const e = error as { statusCode?: unknown; original?: Error & { cause?: { code?: unknown } } };
  if (typeof e.statusCode === 'number') return `HTTP ${e.statusCode}`;
  const code = e.original?.cause?.code;
  const message = e.original?.message ?? (error as Error).message ?? String(error);
  return typeof code === 'string' ? `${message} (${code})` : message;
}

/** The URL as a notice may show it: any user and password in it removed. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Seconds for a notice: `0.2 s`, or `0.2–0.4 s` when the wait is randomized within that range. */
function formatWait(lowMs: number, highMs: number): string {
  return lowMs === highMs ? `${lowMs / 1000} s` : `${lowMs / 1000}–${highMs / 1000} s`;
}

/** The real Slack API over WebClient. */
export function slackWebApi(options: SlackWebApiOptions): SlackApi {
  const retryConfig = {
    retries: options.retries ?? 2,
    factor: 2,
    minTimeout: 200,
    maxTimeout: 1_000,
    randomize: true,
  } satisfies RetryOptions;
  const shownUrl = withoutCredentials(options.apiUrl);
  // The Web API method being called, for the retry notice (WebClient's retries only see the error).
  const calling = new AsyncLocalStorage<string>();
  const notifying: RetryOptions & { onFailedAttempt?: (error: FailedAttempt) => void } = options.onRetry
    ? {
        ...retryConfig,
        // p-retry (under WebClient) calls this after every failed attempt, before it waits: the wait
        // is node-retry's, minTimeout × factor^(retry − 1), times a random 1–2 when randomized, capped.
        onFailedAttempt: (error) => {
          if (error.retriesLeft <= 0) return;
          const base = retryConfig.minTimeout * retryConfig.factor ** (error.attemptNumber - 1);
          const low = Math.min(base, retryConfig.maxTimeout);
          const high = Math.min(retryConfig.randomize ? base * 2 : base, retryConfig.maxTimeout);
          const problem = attemptProblem(error).split(options.apiUrl).join(shownUrl);
          options.onRetry?.(
            `Slack at ${shownUrl} unreachable for ${calling.getStore() ?? 'a call'} (attempt ${error.attemptNumber} of ${retryConfig.retries + 1}: ${problem}); retrying in ${formatWait(low, high)}`,
          );
        },
      }
    : retryConfig;
  let current: { token: string; client: WebClient } | undefined;
  const client = async (): Promise<WebClient> => {
    const token = await options.token();
    // A rotated secret gets a fresh client; the old one holds the old token in its headers.
    if (current?.token !== token) {
      current = {
        token,
        client: new WebClient(token, {
          slackApiUrl: options.apiUrl,
          retryConfig: notifying,
          timeout: options.timeoutMs ?? 5_000,
          logLevel: LogLevel.ERROR,
          rejectRateLimitedCalls: true,
        }),
      };
    }
    return current.client;
  };
  const call = async <T>(method: string, run: (web: WebClient) => Promise<T>): Promise<T> => {
    const web = await client();
    try {
      return await calling.run(method, () => run(web));
    } catch (error) {
      throw new SlackApiError(method, describe(error), { cause: error });
    }
  };
  return {
    postMessage: ({ channel, text, blocks, threadTs }) =>
      call('chat.postMessage', async (web) => {
        const result = await web.chat.postMessage({
          channel,
          text,
          ...(blocks && blocks.length > 0 ? { blocks: blocks as never } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
          unfurl_media: false,
        });
        if (!result.ts || !result.channel) throw new Error('chat.postMessage returned no ts');
        return { channel: result.channel, ts: result.ts };
      }),
    updateMessage: ({ channel, ts, text, blocks }) =>
      call('chat.update', async (web) => {
        await web.chat.update({ channel, ts, text, blocks: blocks as never });
      }),
    postEphemeral: ({ channel, user, text, threadTs }) =>
      call('chat.postEphemeral', async (web) => {
        await web.chat.postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
      }),
    userGroupMembers: (groupId) =>
      call('usergroups.users.list', async (web) => {
        const result = await web.usergroups.users.list({ usergroup: groupId });
        return result.users ?? [];
      }),
    openView: ({ triggerId, view }) =>
      call('views.open', async (web) => {
        await web.views.open({ trigger_id: triggerId, view: view as never });
      }),
  };
}

/** Slack error codes that mean "Slack is not answering", not "this call was wrong". */
export function isSlackOutage(error: unknown): boolean {
  if (!(error instanceof SlackApiError)) return false;
  return /^(http_5\d\d|http_429|ratelimited|request_error|skipped_after_outage)/.test(error.code);
}

/**
 * Wraps an API so that after one outage-class failure every further call in the same piece of work
 * fails at once instead of waiting out its own timeouts and retries: a notification makes several
 * calls, and a slow Slack must not hold the function until its timeout. Create one per invocation.
 */
export function withOutageBreaker(api: SlackApi): SlackApi {
  let down: SlackApiError | undefined;
  const guard =
    <A extends unknown[], R>(method: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (down) throw new SlackApiError(method, 'skipped_after_outage', { cause: down });
      try {
        return await call(...args);
      } catch (error) {
        if (isSlackOutage(error)) down = error as SlackApiError;
        throw error;
      }
    };
  return {
    postMessage: guard('chat.postMessage', api.postMessage),
    updateMessage: guard('chat.update', api.updateMessage),
    postEphemeral: guard('chat.postEphemeral', api.postEphemeral),
    userGroupMembers: guard('usergroups.users.list', api.userGroupMembers),
    openView: guard('views.open', api.openView),
  };
}
