/**
 * The Slack Web API calls Shiplane makes, through the official `@slack/web-api` WebClient. The base
 * URL comes from the config (`slack.apiUrl`), so the same code talks to Slack or to the local
 * stand-in. The bot token is read from its secret reference on first use and never logged.
 */
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
}

function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown_error';
  const e = error as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown; original?: Error };
  if (typeof e.data?.error === 'string') return e.data.error;
  if (typeof e.statusCode === 'number') return `http_${e.statusCode}`;
  if (e.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (e.original) return `request_error: ${e.original.message}`;
  return (error as Error).name ?? 'unknown_error';
}

/** The real Slack API over WebClient. */
export function slackWebApi(options: SlackWebApiOptions): SlackApi {
  const retryConfig: RetryOptions = {
    retries: options.retries ?? 2,
    factor: 2,
    minTimeout: 200,
    maxTimeout: 1_000,
    randomize: true,
  };
  let current: { token: string; client: WebClient } | undefined;
  const client = async (): Promise<WebClient> => {
    const token = await options.token();
    // A rotated secret gets a fresh client; the old one holds the old token in its headers.
    if (current?.token !== token) {
      current = {
        token,
        client: new WebClient(token, {
          slackApiUrl: options.apiUrl,
          retryConfig,
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
      return await run(web);
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
