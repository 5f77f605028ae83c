/**
 * A stand-in for the Slack Web API on 127.0.0.1: the methods Shiplane calls, answered the way Slack
 * answers them (HTTP 200 with `ok` and `error`, form-encoded or JSON bodies, the bot token in the
 * `Authorization` header). It keeps each channel's messages in memory with their `thread_ts`, so
 * tests and the sandbox read what people would see. `setDown(true)` makes every call fail with
 * HTTP 503, as during a Slack outage.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackUser {
  readonly id: string;
  readonly name: string;
  readonly realName?: string;
}

export interface SlackServerOptions {
  /** The bot token a caller must present. */
  readonly botToken: string;
  /** Channels that exist; any `C…`/`G…` id is accepted when absent. */
  readonly channels?: readonly string[];
  readonly userGroups?: Readonly<Record<string, readonly string[]>>;
  readonly users?: readonly SlackUser[];
  readonly teamId?: string;
  readonly botUserId?: string;
  readonly botId?: string;
}

export interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  readonly thread_ts?: string;
  readonly text: string;
  readonly blocks?: unknown[];
  readonly user: string;
  readonly bot_id: string;
  readonly edited?: { readonly user: string; readonly ts: string };
}

export interface EphemeralMessage {
  readonly channel: string;
  readonly user: string;
  readonly text: string;
  readonly thread_ts?: string;
  readonly message_ts: string;
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
  /** While down, every request gets HTTP 503. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

type Params = Record<string, unknown>;
type Answer = Record<string, unknown>;

class SlackMethodError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const fail = (code: string): never => {
  throw new SlackMethodError(code);
};

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;

function parseBlocks(value: unknown): unknown[] | undefined {
  if (value === undefined || value === '') return undefined;
  const blocks = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(blocks)) return fail('invalid_blocks_format');
  return blocks;
}

/** The limits Slack enforces on the blocks Shiplane sends (the rest of Block Kit is not checked). */
function checkBlocks(blocks: unknown[]): unknown[] {
  if (blocks.length > 50) fail('invalid_blocks');
  const tooLong = (text: unknown, max: number) => typeof text === 'string' && text.length > max;
  return blocks.map((raw) => {
    const block = raw as {
      type?: unknown;
      block_id?: unknown;
      elements?: unknown[];
      text?: { text?: unknown };
    };
    if (typeof block.type !== 'string') fail('invalid_blocks');
    if (block.type === 'section' && tooLong(block.text?.text, 3000)) fail('invalid_blocks');
    if (block.type === 'header' && tooLong(block.text?.text, 150)) fail('invalid_blocks');
    if (block.type === 'actions') {
      for (const element of block.elements ?? []) {
        const button = element as { text?: { text?: unknown }; value?: unknown };
        if (tooLong(button.text?.text, 75) || tooLong(button.value, 2000)) fail('invalid_blocks');
      }
    }
    // Slack gives every block without one a short random block_id.
    return typeof block.block_id === 'string'
      ? block
      : { ...block, block_id: randomBytes(3).toString('base64url') };
  });
}

export async function startSlackServer(options: SlackServerOptions): Promise<SlackServer> {
  const teamId = options.teamId ?? 'T0SHIPLANE';
  const botUserId = options.botUserId ?? 'U0SHIPLANEBOT';
  const botId = options.botId ?? 'B0SHIPLANE';
  const messages: StoredMessage[] = [];
  const ephemerals: EphemeralMessage[] = [];
  const calls: SlackCall[] = [];
  const groups = new Map(Object.entries(options.userGroups ?? {}).map(([id, members]) => [id, [...members]]));
  const users = new Map((options.users ?? []).map((user) => [user.id, user]));
  let down = false;
  let clock = 0;

  // Slack's ts is epoch seconds with a 6-digit sequence; it is unique per channel and orders messages.
  const nextTs = () => {
    const seconds = Math.floor(Date.now() / 1000);
    clock = Math.max(clock + 1, seconds * 1_000_000);
    return `${Math.floor(clock / 1_000_000)}.${String(clock % 1_000_000).padStart(6, '0')}`;
  };
  const channelOf = (params: Params): string => {
    const channel = str(params.channel);
    if (!channel || !/^[CGD][A-Z0-9]+$/.test(channel)) return fail('channel_not_found');
    if (options.channels && !options.channels.includes(channel)) fail('channel_not_found');
    return channel;
  };
  const textOf = (params: Params, blocks: unknown[] | undefined): string => {
    const text = str(params.text) ?? '';
    if (text.length > 40_000) fail('msg_too_long');
    if (!text && !blocks?.length) fail('no_text');
    return text;
  };
  const render = (message: StoredMessage) => ({
    type: 'message',
    subtype: 'bot_message',
    text: message.text,
    user: message.user,
    bot_id: message.bot_id,
    ts: message.ts,
    team: teamId,
    ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.edited ? { edited: message.edited } : {}),
  });

  const methods: Record<string, (params: Params) => Answer> = {
    'auth.test': () => ({
      url: 'https://shiplane-sandbox.slack.com/',
      team: 'Shiplane sandbox',
      user: 'shiplane',
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (params) => {
      const channel = channelOf(params);
      const rawBlocks = parseBlocks(params.blocks);
      const blocks = rawBlocks ? checkBlocks(rawBlocks) : undefined;
      const text = textOf(params, blocks);
      const threadTs = str(params.thread_ts);
      const message: StoredMessage = {
        channel,
        ts: nextTs(),
        text,
        user: botUserId,
        bot_id: botId,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(blocks ? { blocks } : {}),
      };
      messages.push(message);
      return { channel, ts: message.ts, message: render(message) };
    },
    'chat.update': (params) => {
      const channel = channelOf(params);
      const ts = str(params.ts) ?? fail('message_not_found');
      const index = messages.findIndex((m) => m.channel === channel && m.ts === ts);
      const current = messages[index] ?? fail('message_not_found');
      if (current.user !== botUserId) fail('cant_update_message');
      const rawBlocks = parseBlocks(params.blocks);
      const blocks = rawBlocks ? checkBlocks(rawBlocks) : current.blocks;
      const text = textOf(params, blocks);
      const { blocks: _old, ...rest } = current;
      const updated: StoredMessage = {
        ...rest,
        text,
        ...(blocks && blocks.length > 0 ? { blocks } : {}),
        edited: { user: botUserId, ts: nextTs() },
      };
      messages[index] = updated;
      return { channel, ts, text, message: render(updated) };
    },
    'chat.postEphemeral': (params) => {
      const channel = channelOf(params);
      const user = str(params.user) ?? fail('user_not_found');
      const text = textOf(params, parseBlocks(params.blocks));
      const threadTs = str(params.thread_ts);
      const message_ts = nextTs();
      ephemerals.push({ channel, user, text, message_ts, ...(threadTs ? { thread_ts: threadTs } : {}) });
      return { message_ts };
    },
    'usergroups.users.list': (params) => {
      const id = str(params.usergroup) ?? fail('no_such_subteam');
      const members = groups.get(id) ?? fail('no_such_subteam');
      return { users: [...members] };
    },
    'users.info': (params) => {
      const id = str(params.user) ?? fail('user_not_found');
      const user = users.get(id) ?? fail('user_not_found');
      return {
        user: {
          id: user.id,
          team_id: teamId,
          name: user.name,
          deleted: false,
          real_name: user.realName ?? user.name,
          tz: 'Etc/UTC',
          profile: { real_name: user.realName ?? user.name, display_name: user.name },
          is_bot: false,
        },
      };
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = url.pathname.replace(/^\/api\//, '');
    const send = (status: number, body: Answer | string) => {
      const json = typeof body !== 'string';
      response.writeHead(status, { 'content-type': json ? 'application/json; charset=utf-8' : 'text/plain' });
      response.end(json ? JSON.stringify(body) : body);
    };
    const body = await readBody(request);
    if (down) {
      calls.push({ method, ok: false, error: 'http_503' });
      send(503, 'Service Unavailable');
      return;
    }
    const answer = (ok: boolean, extra: Answer) => {
      calls.push({ method, ok, ...(typeof extra.error === 'string' ? { error: extra.error } : {}) });
      send(200, { ok, ...extra });
    };
    if (!url.pathname.startsWith('/api/')) {
      send(404, 'Not Found');
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
    const run = methods[method];
    if (!run) return answer(false, { error: 'unknown_method' });
    try {
      answer(true, run(params));
    } catch (error) {
      if (error instanceof SlackMethodError) return answer(false, { error: error.code });
      if (error instanceof SyntaxError) return answer(false, { error: 'invalid_arguments' });
      throw error;
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    teamId,
    messages: (channel) => messages.filter((m) => channel === undefined || m.channel === channel),
    thread: (channel, ts) =>
      messages.filter((m) => m.channel === channel && (m.ts === ts || m.thread_ts === ts)),
    message: (channel, ts) => messages.find((m) => m.channel === channel && m.ts === ts),
    ephemerals: () => [...ephemerals],
    calls: () => [...calls],
    setUserGroup: (id, members) => {
      groups.set(id, [...members]);
    },
    setDown: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
