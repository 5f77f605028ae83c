/**
 * Who may decide an approval: a Slack user listed in the stage's `approvers`, or a member of a listed
 * user group. Group members come from `usergroups.users.list`, cached for a few minutes per group so
 * a warm function answers a click without calling Slack; only successful answers are cached.
 */
import { errorAttributes, type Reporter } from '../../ports/reporter.js';

export type AuthorizationVerdict =
  | { readonly allowed: true; readonly via: 'user' | 'group'; readonly group?: string }
  | { readonly allowed: false; readonly reason: 'not-listed' }
  /** No listed user matched and a group could not be read: refuse, but say it may work later. */
  | { readonly allowed: false; readonly reason: 'groups-unavailable' };

export type Authorize = (userId: string, approvers: readonly string[]) => Promise<AuthorizationVerdict>;

export interface AuthorizeOptions {
  /** Reads a user group's member ids. */
  readonly groupMembers: (groupId: string) => Promise<string[]>;
  /** How long a group's members are trusted, in milliseconds. @default 300_000 */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  readonly reporter?: Reporter;
  /**
   * Groups to look up right away, so a cold start's first click does not wait for Slack: the
   * lookups run while the function reads its secrets and the approval. Failures are not cached.
   */
  readonly warm?: readonly string[];
}

const isGroup = (id: string) => id.startsWith('S');

/** Builds an authorizer with its own group cache (create it once per process). */
export function createAuthorizer(options: AuthorizeOptions): Authorize {
  const ttl = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { members: Set<string>; at: number }>();
  const inflight = new Map<string, Promise<Set<string>>>();

  const members = async (group: string): Promise<Set<string>> => {
    const cached = cache.get(group);
    if (cached && now() - cached.at < ttl) return cached.members;
    // Concurrent clicks share one lookup instead of each calling Slack.
    let pending = inflight.get(group);
    if (!pending) {
      pending = options
        .groupMembers(group)
        .then((ids) => {
          const set = new Set(ids);
          cache.set(group, { members: set, at: now() });
          return set;
        })
        .finally(() => inflight.delete(group));
      inflight.set(group, pending);
    }
    return pending;
  };

  for (const group of new Set(options.warm?.filter(isGroup))) {
    members(group).catch(() => undefined);
  }

  return async (userId, approvers) => {
    if (approvers.some((id) => !isGroup(id) && id === userId)) return { allowed: true, via: 'user' };
    const groups = approvers.filter(isGroup);
    const results = await Promise.allSettled(
      groups.map(async (group) => ({ group, ids: await members(group) })),
    );
    let unavailable = false;
    for (const result of results) {
      if (result.status === 'fulfilled') {
        if (result.value.ids.has(userId)) return { allowed: true, via: 'group', group: result.value.group };
      } else {
        unavailable = true;
        options.reporter?.warn('could not read an approver user group', errorAttributes(result.reason));
      }
    }
    return { allowed: false, reason: unavailable ? 'groups-unavailable' : 'not-listed' };
  };
}
