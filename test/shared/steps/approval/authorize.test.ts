import { describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../../../shared/steps/approval/authorize.js';
import { recordingReporter } from '../../../fixtures/slack/context.js';

function groups(members: Record<string, string[]>) {
  const calls: string[] = [];
  let failing = false;
  return {
    calls,
    fail(value: boolean) {
      failing = value;
    },
    lookup: async (group: string) => {
      calls.push(group);
      if (failing)
        throw Object.assign(new Error('Slack usergroups.users.list failed: ratelimited'), {
          code: 'ratelimited',
        });
      const ids = members[group];
      if (!ids) throw new Error('no_such_subteam');
      return ids;
    },
  };
}

describe('createAuthorizer', () => {
  it('allows a user listed by id without asking Slack', async () => {
    const g = groups({});
    const authorize = createAuthorizer({ groupMembers: g.lookup });
    expect(await authorize('U0PLATFORM1', ['U0PLATFORM1', 'S0PLATFORMGRP'])).toEqual({
      allowed: true,
      via: 'user',
    });
    expect(g.calls).toEqual([]);
  });

  it('allows a member of a listed user group', async () => {
    const authorize = createAuthorizer({ groupMembers: groups({ S0PLATFORMGRP: ['U0BOB00001'] }).lookup });
    expect(await authorize('U0BOB00001', ['U0PLATFORM1', 'S0PLATFORMGRP'])).toEqual({
      allowed: true,
      via: 'group',
      group: 'S0PLATFORMGRP',
    });
  });

  it('refuses anyone else', async () => {
    const authorize = createAuthorizer({ groupMembers: groups({ S0PLATFORMGRP: ['U0BOB00001'] }).lookup });
    expect(await authorize('U0MALLORY1', ['U0PLATFORM1', 'S0PLATFORMGRP'])).toEqual({
      allowed: false,
      reason: 'not-listed',
    });
  });

  it('does not treat a user-group id as a user id', async () => {
    const authorize = createAuthorizer({ groupMembers: groups({ S0PLATFORMGRP: [] }).lookup });
    expect((await authorize('S0PLATFORMGRP', ['S0PLATFORMGRP'])).allowed).toBe(false);
  });

  it('caches group members for the TTL, then asks again', async () => {
    const g = groups({ S0PLATFORMGRP: ['U0BOB00001'] });
    let now = 0;
    const authorize = createAuthorizer({ groupMembers: g.lookup, ttlMs: 60_000, now: () => now });
    await authorize('U0BOB00001', ['S0PLATFORMGRP']);
    await authorize('U0CAROL001', ['S0PLATFORMGRP']);
    expect(g.calls).toEqual(['S0PLATFORMGRP']);
    now = 60_001;
    await authorize('U0BOB00001', ['S0PLATFORMGRP']);
    expect(g.calls).toEqual(['S0PLATFORMGRP', 'S0PLATFORMGRP']);
  });

  it('shares one lookup between concurrent clicks', async () => {
    const g = groups({ S0PLATFORMGRP: ['U0BOB00001'] });
    const authorize = createAuthorizer({ groupMembers: g.lookup });
    await Promise.all([
      authorize('U0BOB00001', ['S0PLATFORMGRP']),
      authorize('U0BOB00001', ['S0PLATFORMGRP']),
    ]);
    expect(g.calls).toEqual(['S0PLATFORMGRP']);
  });

  it('refuses, saying groups were unavailable, when a group cannot be read (and does not cache that)', async () => {
    const g = groups({ S0PLATFORMGRP: ['U0BOB00001'] });
    const reporter = recordingReporter();
    const authorize = createAuthorizer({ groupMembers: g.lookup, reporter });
    g.fail(true);
    expect(await authorize('U0BOB00001', ['S0PLATFORMGRP'])).toEqual({
      allowed: false,
      reason: 'groups-unavailable',
    });
    expect(reporter.lines).toMatchObject([
      { level: 'warn', message: 'could not read an approver user group' },
    ]);
    g.fail(false);
    expect((await authorize('U0BOB00001', ['S0PLATFORMGRP'])).allowed).toBe(true);
  });
});

describe('createAuthorizer warm-up', () => {
  it('looks up the listed groups at once, so the first click finds them cached', async () => {
    const g = groups({ S0PLATFORMGRP: ['U0BOB00001'] });
    const authorize = createAuthorizer({
      groupMembers: g.lookup,
      warm: ['U0PLATFORM1', 'S0PLATFORMGRP', 'S0PLATFORMGRP'],
    });
    expect(g.calls).toEqual(['S0PLATFORMGRP']);
    expect((await authorize('U0BOB00001', ['S0PLATFORMGRP'])).allowed).toBe(true);
    expect(g.calls).toEqual(['S0PLATFORMGRP']);
  });

  it('does not keep a failed warm-up', async () => {
    const g = groups({ S0PLATFORMGRP: ['U0BOB00001'] });
    g.fail(true);
    const authorize = createAuthorizer({ groupMembers: g.lookup, warm: ['S0PLATFORMGRP'] });
    await new Promise((resolve) => setImmediate(resolve));
    g.fail(false);
    expect((await authorize('U0BOB00001', ['S0PLATFORMGRP'])).allowed).toBe(true);
    expect(g.calls).toEqual(['S0PLATFORMGRP', 'S0PLATFORMGRP']);
  });
});
