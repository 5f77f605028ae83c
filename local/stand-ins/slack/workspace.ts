/**
 * The Slack workspace behind the stand-in: channels, messages with their `thread_ts`, ephemerals,
 * user groups and users, and the Web API methods Shiplane calls, with Slack's rules and error codes
 * (`channel_not_found`, `msg_too_long`, `invalid_blocks`, `cant_update_message`, …).
 */
import { randomBytes } from 'node:crypto';

export interface SlackUser {
  readonly id: string;
  readonly name: string;
  readonly realName?: string;
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

export interface WorkspaceOptions {
  /** Channels that exist; any `C…`/`G…` id is accepted when absent. */
  readonly channels?: readonly string[];
  readonly userGroups?: Readonly<Record<string, readonly string[]>>;
  readonly users?: readonly SlackUser[];
  readonly teamId?: string;
  readonly botUserId?: string;
  readonly botId?: string;
}

export type Params = Record<string, unknown>;
export type Answer = Record<string, unknown>;

/** A method's failure: Slack answers HTTP 200 with `ok: false` and this `error` code. */
export class SlackMethodError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const fail = (code: string): never => {
  throw new SlackMethodError(code);
};

/** A parameter as a string: form fields are strings, JSON bodies may carry numbers. */
export const str = (value: unknown): string | undefined =>
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

export class SlackWorkspace {
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly messages: StoredMessage[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  private readonly groups: Map<string, string[]>;
  private readonly users: Map<string, SlackUser>;
  private clock = 0;

  constructor(private readonly options: WorkspaceOptions) {
    this.teamId = options.teamId ?? 'T0SHIPLANE';
    this.botUserId = options.botUserId ?? 'U0SHIPLANEBOT';
    this.botId = options.botId ?? 'B0SHIPLANE';
    this.groups = new Map(
      Object.entries(options.userGroups ?? {}).map(([id, members]) => [id, [...members]]),
    );
    this.users = new Map((options.users ?? []).map((user) => [user.id, user]));
  }

  setUserGroup(id: string, members: readonly string[]): void {
    this.groups.set(id, [...members]);
  }

  /** The Web API method `name`, or undefined when Slack has no such method (here). */
  method(name: string): ((params: Params) => Answer) | undefined {
    return Object.hasOwn(this.methods, name) ? this.methods[name] : undefined;
  }

  // Slack's ts is epoch seconds with a 6-digit sequence; it is unique per channel and orders messages.
  private nextTs(): string {
    const seconds = Math.floor(Date.now() / 1000);
    this.clock = Math.max(this.clock + 1, seconds * 1_000_000);
    return `${Math.floor(this.clock / 1_000_000)}.${String(this.clock % 1_000_000).padStart(6, '0')}`;
  }

  private channelOf(params: Params): string {
    const channel = str(params.channel);
    if (!channel || !/^[CGD][A-Z0-9]+$/.test(channel)) return fail('channel_not_found');
    if (this.options.channels && !this.options.channels.includes(channel)) fail('channel_not_found');
    return channel;
  }

  private textOf(params: Params, blocks: unknown[] | undefined): string {
    const text = str(params.text) ?? '';
    if (text.length > 40_000) fail('msg_too_long');
    if (!text && !blocks?.length) fail('no_text');
    return text;
  }

  /** A message as the API returns it. */
  private render(message: StoredMessage) {
    return {
      type: 'message',
      subtype: 'bot_message',
      text: message.text,
      user: message.user,
      bot_id: message.bot_id,
      ts: message.ts,
      team: this.teamId,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.edited ? { edited: message.edited } : {}),
    };
  }

  private readonly methods: Record<string, (params: Params) => Answer> = {
    'auth.test': () => ({
      url: 'https://shiplane-sandbox.slack.com/',
      team: 'Shiplane sandbox',
      user: 'shiplane',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (params) => {
      const channel = this.channelOf(params);
      const rawBlocks = parseBlocks(params.blocks);
      const blocks = rawBlocks ? checkBlocks(rawBlocks) : undefined;
      const text = this.textOf(params, blocks);
      const threadTs = str(params.thread_ts);
      const message: StoredMessage = {
        channel,
        ts: this.nextTs(),
        text,
        user: this.botUserId,
        bot_id: this.botId,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(blocks ? { blocks } : {}),
      };
      this.messages.push(message);
      return { channel, ts: message.ts, message: this.render(message) };
    },
    'chat.update': (params) => {
      const channel = this.channelOf(params);
      const ts = str(params.ts) ?? fail('message_not_found');
      const index = this.messages.findIndex((m) => m.channel === channel && m.ts === ts);
      const current = this.messages[index] ?? fail('message_not_found');
      if (current.user !== this.botUserId) fail('cant_update_message');
      const rawBlocks = parseBlocks(params.blocks);
      const blocks = rawBlocks ? checkBlocks(rawBlocks) : current.blocks;
      const text = this.textOf(params, blocks);
      const { blocks: _old, ...rest } = current;
      const updated: StoredMessage = {
        ...rest,
        text,
        ...(blocks && blocks.length > 0 ? { blocks } : {}),
        edited: { user: this.botUserId, ts: this.nextTs() },
      };
      this.messages[index] = updated;
      return { channel, ts, text, message: this.render(updated) };
    },
    'chat.postEphemeral': (params) => {
      const channel = this.channelOf(params);
      const user = str(params.user) ?? fail('user_not_found');
      const text = this.textOf(params, parseBlocks(params.blocks));
      const threadTs = str(params.thread_ts);
      const message_ts = this.nextTs();
      this.ephemerals.push({ channel, user, text, message_ts, ...(threadTs ? { thread_ts: threadTs } : {}) });
      return { message_ts };
    },
    'usergroups.users.list': (params) => {
      const id = str(params.usergroup) ?? fail('no_such_subteam');
      const members = this.groups.get(id) ?? fail('no_such_subteam');
      return { users: [...members] };
    },
    'users.info': (params) => {
      const id = str(params.user) ?? fail('user_not_found');
      const user = this.users.get(id) ?? fail('user_not_found');
      return {
        user: {
          id: user.id,
          team_id: this.teamId,
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
}
