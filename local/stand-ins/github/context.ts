/** What a route handler gets and gives: the parsed request, and GitHub's answer before it is written. */
import type { IncomingMessage } from 'node:http';
import type { GitIdentity } from './git-store.js';

export interface RequestContext {
  readonly method: string;
  /** Decoded, without the `/api/v3` prefix. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** The JSON body, or undefined when there is none. */
  readonly body: unknown;
  /** Who the credentials belong to: the author of commits that name none. */
  readonly identity: GitIdentity;
  /** The API root this request came in under (`url`, or `url/api/v3`), for the URLs in answers. */
  readonly base: string;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Sent as is (raw media types). */
  readonly raw?: Buffer | string;
}

export type RouteHandler = (ctx: RequestContext, params: Readonly<Record<string, string>>) => Promise<Reply>;

/** Registers a route; `/repos/{owner}/{repo}` in a template matches the served repository only. */
export type AddRoute = (method: string, template: string, handler: RouteHandler) => void;

/** A field of a JSON object body, unchecked (the handler checks it the way GitHub does). */
export function field<T>(body: unknown, key: string): T | undefined {
  return body && typeof body === 'object'
    ? ((body as Record<string, unknown>)[key] as T | undefined)
    : undefined;
}

/** An `author`/`committer` object of the body, when it has a name and an email; `fallback` otherwise. */
export function personFrom(
  body: unknown,
  key: string,
  fallback: GitIdentity,
): GitIdentity & { date?: string } {
  const person = field<{ name?: string; email?: string; date?: string }>(body, key);
  return person?.name && person.email
    ? { name: person.name, email: person.email, ...(person.date ? { date: person.date } : {}) }
    : fallback;
}

export const SHA = /^[0-9a-f]{40}$/;
