/** The records the pull-request stand-in keeps, and how logins and git identities map onto each other. */
import type { GitIdentity } from './git-store.js';

export type MergeMethod = 'merge' | 'squash' | 'rebase';

export interface CommentRecord {
  readonly id: number;
  readonly author: string;
  readonly body: string;
  readonly createdAt: string;
}

export interface PullRecord {
  readonly number: number;
  title: string;
  body: string | null;
  readonly head: string;
  readonly base: string;
  /** Login of who opened it. */
  readonly author: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergedBy: string | null;
  mergedAt: string | null;
  mergeCommit: string | null;
  closedBy: string | null;
  closedAt: string | null;
  readonly createdAt: string;
  updatedAt: string;
  /** The head commit last seen: kept once it is closed, since the branch may be deleted. */
  headSha: string;
  /** The base commit last seen. */
  baseSha: string;
  readonly reviewers: string[];
  readonly comments: CommentRecord[];
}

/** Where an open pull request stands now (computed on every read, as GitHub recomputes it). */
export interface Mergeability {
  readonly mergeable: boolean;
  /** clean, blocked (required checks pending) or dirty (conflict). */
  readonly state: 'clean' | 'blocked' | 'dirty';
}

/** The login an identity acts as: `api-user` for api-user@users.noreply.github.com, else its name. */
export function loginOf(identity: GitIdentity): string {
  return identity.email.match(/^(?:\d+\+)?([^@]+)@users\.noreply\.github\.com$/)?.[1] ?? identity.name;
}

/** A person acting on the web page, as a git identity (for the merge commits they make). */
export function identityOf(login: string): GitIdentity {
  return { name: login, email: `${login}@users.noreply.github.com` };
}
