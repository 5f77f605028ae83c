/**
 * A stand-in for the Slack Web API on 127.0.0.1: the methods Shiplane calls, answered the way Slack
 * answers them (HTTP 200 with `ok` and `error`, form-encoded or JSON bodies, the bot token in the
 * `Authorization` header). It keeps each channel's messages in memory with their `thread_ts`, so
 * tests and the sandbox read what people would see. `setDown(true)` makes every call fail with
 * HTTP 503, as during a Slack outage.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  FaultPlan,
  HttpError,
  readBody,
  send,
  sendJson,
  sendText,
  startHttpServer,
  urlOf,
} from '../../http/index.js';
import {
  type Answer,
  type EphemeralMessage,
  type OpenedView,
  type Params,
  SlackMethodError,
  SlackWorkspace,
  type StoredMessage,
  str,
  type WorkspaceOptions,
} from './workspace.js';

export type { EphemeralMessage, OpenedView, SlackUser, StoredMessage } from './workspace.js';

export interface SlackServerOptions extends WorkspaceOptions {
  /** The bot token a caller must present. */
  readonly botToken: string;
}

export interface SlackCall {
  readonly method: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface SlackServer {
  /** The Web API base URL, for `slack.apiUrl` (ends with `/api/`). */
  readonly apiUrl: string;
  readonly teamId: string;
  /** Top-level messages and replies of a channel, oldest first. */
  messages(channel?: string): StoredMessage[];
  /** A thread's parent and its replies, oldest first. */
  thread(channel: string, ts: string): StoredMessage[];
  message(channel: string, ts: string): StoredMessage | undefined;
  ephemerals(): EphemeralMessage[];
  calls(): SlackCall[];
  setUserGroup(id: string, members: readonly string[]): void;
  /** A trigger_id for an interaction by `user` (valid 3 s from `issuedAt`, for one views.open). */
  issueTrigger(user: string, issuedAt?: number): string;
  /** The modals apps opened, oldest first. */
  views(): OpenedView[];
  /** The modal opened with `triggerId`. */
  viewOpenedBy(triggerId: string): OpenedView | undefined;
  /** While down, every request gets HTTP 503. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** Form fields arrive as strings; `blocks` and other structures as JSON text inside them. */
function parseParams(contentType: string, body: string, query: URLSearchParams): Params {
  const params: Params = Object.fromEntries(query);
  if (contentType.startsWith('application/json')) {
    return { ...params, ...(body ? (JSON.parse(body) as Params) : {}) };
  }
  for (const [key, value] of new URLSearchParams(body)) params[key] = value;
  return params;
}

export async function startSlackServer(options: SlackServerOptions): Promise<SlackServer> {
  const workspace = new SlackWorkspace(options);
  const calls: SlackCall[] = [];
  // An outage: every request answers 503 until it is over.
  const outage = new FaultPlan<'down'>();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = urlOf(request);
    const method = url.pathname.replace(/^\/api\//, '');
    const body = (await readBody(request)).toString('utf8');
    if (outage.take(request.method ?? 'GET', url.pathname)) {
      calls.push({ method, ok: false, error: 'http_503' });
      sendText(response, 503, 'Service Unavailable', { 'content-type': 'text/plain' });
      return;
    }
    const answer = (ok: boolean, extra: Answer) => {
      calls.push({ method, ok, ...(typeof extra.error === 'string' ? { error: extra.error } : {}) });
      sendJson(response, 200, { ok, ...extra });
    };
    if (!url.pathname.startsWith('/api/')) {
      sendText(response, 404, 'Not Found', { 'content-type': 'text/plain' });
      return;
    }
    let params: Params;
    try {
      params = parseParams(request.headers['content-type'] ?? '', body, url.searchParams);
    } catch {
      answer(false, { error: 'invalid_json' });
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const token = bearer ?? str(params.token);
    if (!token) return answer(false, { error: 'not_authed' });
    if (token !== options.botToken) return answer(false, { error: 'invalid_auth' });
    const run = workspace.method(method);
    if (!run) return answer(false, { error: 'unknown_method' });
    try {
      answer(true, run(params));
    } catch (error) {
      if (error instanceof SlackMethodError) return answer(false, { error: error.code });
      if (error instanceof SyntaxError) return answer(false, { error: 'invalid_arguments' });
      throw error;
    }
  };

  const http = await startHttpServer({
    handle,
    onError: (error, _request, response) => {
      // A body over the limit is Slack's 413; anything else, an empty 500.
      if (error instanceof HttpError)
        sendText(response, error.status, error.message, { 'content-type': 'text/plain' });
      else send(response, 500, undefined, {});
    },
  });
  const { messages } = workspace;

  return {
    apiUrl: `${http.url}/api/`,
    teamId: workspace.teamId,
    messages: (channel) => messages.filter((m) => channel === undefined || m.channel === channel),
    thread: (channel, ts) =>
      messages.filter((m) => m.channel === channel && (m.ts === ts || m.thread_ts === ts)),
    message: (channel, ts) => messages.find((m) => m.channel === channel && m.ts === ts),
    ephemerals: () => [...workspace.ephemerals],
    calls: () => [...calls],
    setUserGroup: (id, members) => workspace.setUserGroup(id, members),
    issueTrigger: (user, issuedAt) => workspace.issueTrigger(user, issuedAt),
    views: () => [...workspace.views],
    viewOpenedBy: (triggerId) => workspace.viewOpenedBy(triggerId),
    setDown: (down) => {
      outage.clear();
      if (down) outage.inject('down', { times: Number.POSITIVE_INFINITY });
    },
    close: () => http.close(),
  };
}
