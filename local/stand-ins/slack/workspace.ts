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

/** A modal opened with `views.open`, as the stand-in keeps it. */
export interface OpenedView {
  readonly id: string;
  /** Who sees it: the user whose interaction gave the trigger. */
  readonly user: string;
  readonly triggerId: string;
  /** The `view` as the app sent it (callback_id, private_metadata, title, blocks, …). */
  readonly view: Readonly<Record<string, unknown>>;
  readonly openedAt: number;
  /** Open until it is submitted (and the app's answer closes it) or cancelled. */
  closed: boolean;
}

/** How long a trigger_id may be exchanged for a modal, as Slack documents it. */
export const TRIGGER_LIFETIME_MS = 3_000;

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

/**
 * A modal view as `views.open` checks it: Slack's documented limits for the fields Shiplane sends
 * (type, title, submit/close, callback_id, private_metadata, up to 100 blocks; an input block needs
 * a submit button).
 */
function checkModal(value: unknown): Record<string, unknown> {
  if (value === undefined || value === '') return fail('invalid_arguments');
  const view = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
  if (typeof view !== 'object' || view === null || Array.isArray(view)) return fail('invalid_arguments');
  const text = (field: unknown, max: number, required: boolean) => {
    if (field === undefined && !required) return;
    const t = field as { type?: unknown; text?: unknown } | undefined;
    if (
      t?.type !== 'plain_text' ||
      typeof t.text !== 'string' ||
      t.text.length === 0 ||
      t.text.length > max
    ) {
      fail('invalid_arguments');
    }
  };
  if (view.type !== 'modal') fail('invalid_arguments');
  text(view.title, 24, true);
  text(view.submit, 24, false);
  text(view.close, 24, false);
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) fail('invalid_arguments');
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3_000)
    fail('invalid_arguments');
  const blocks = view.blocks;
  if (!Array.isArray(blocks) || blocks.length > 100) return fail('invalid_arguments');
  for (const block of blocks as Array<{ type?: unknown; element?: { max_length?: unknown } }>) {
    if (typeof block.type !== 'string') fail('invalid_arguments');
    if (block.type === 'input') {
      if (view.submit === undefined) fail('invalid_arguments');
      const max = block.element?.max_length;
      if (max !== undefined && (typeof max !== 'number' || max < 1 || max > 3_000)) fail('invalid_arguments');
    }
  }
  return view;
}

export class SlackWorkspace {
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly messages: StoredMessage[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  private readonly groups: Map<string, string[]>;
  private readonly users: Map<string, SlackUser>;
  readonly views: OpenedView[] = [];
  private readonly triggers = new Map<string, { user: string; issuedAt: number; used: boolean }>();
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

  /**
   * The trigger_id Slack puts in an interaction payload for `user`: valid for 3 s from `issuedAt`,
   * for one `views.open`.
   */
  issueTrigger(user: string, issuedAt = Date.now()): string {
    const id = `${Math.floor(issuedAt / 1000)}.${randomBytes(5).readUInt32BE()}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { user, issuedAt, used: false });
    return id;
  }

  /** The view opened with `triggerId`, if any. */
  viewOpenedBy(triggerId: string): OpenedView | undefined {
    return this.views.find((view) => view.triggerId === triggerId);
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
    'views.open': (params) => {
      const triggerId = str(params.trigger_id) ?? fail('invalid_arguments');
      const trigger = this.triggers.get(triggerId) ?? fail('invalid_trigger_id');
      if (trigger.used) fail('exchanged_trigger_id');
      if (Date.now() - trigger.issuedAt > TRIGGER_LIFETIME_MS) fail('expired_trigger_id');
      const view = checkModal(params.view);
      trigger.used = true;
      const opened: OpenedView = {
        id: `V${randomBytes(5).toString('hex').toUpperCase()}`,
        user: trigger.user,
        triggerId,
        view,
        openedAt: Date.now(),
        closed: false,
      };
      this.views.push(opened);
      return {
        view: {
          ...view,
          id: opened.id,
          team_id: this.teamId,
          state: { values: {} },
          hash: `${Math.floor(opened.openedAt / 1000)}.${randomBytes(4).toString('hex')}`,
          root_view_id: opened.id,
          previous_view_id: null,
          app_id: 'A0SHIPLANE',
          bot_id: this.botId,
        },
      };
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
