/**
 * `stages[].pullRequest`: defaults, the errors that name the key, the round trip through
 * SHIPLANE_CONFIG, and the poll schedule the history budget counts.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.js';
import {
  HISTORY_EVENTS_PER_PULL_REQUEST_POLL,
  maxPullRequestPolls,
  pullRequestPollSeconds,
} from '../../../shared/config/pull-request-poll.js';
import { serializeConfigInput, toConfigInput } from '../../../shared/config/runtime.js';
import { HISTORY_EVENT_BUDGET } from '../../../shared/config/schema.js';
import { problemsOf, type RawConfig, shippedConfig } from './helpers.js';

function withPullRequest(pullRequest: unknown): RawConfig {
  const raw = shippedConfig();
  raw.stages[1].pullRequest = pullRequest;
  return raw;
}

describe('stages[].pullRequest', () => {
  it('defaults method to squash and timeout to 24h; a stage without it has none', () => {
    const config = parseConfig(withPullRequest({ merge: 'auto' }));

    expect(config.stages[1]?.pullRequest).toEqual({ merge: 'auto', method: 'squash', timeout: 86_400 });
    expect(config.stages[0]?.pullRequest).toBeUndefined();
  });

  it('keeps reviewers, method and timeout as written', () => {
    const config = parseConfig(
      withPullRequest({
        merge: 'manual',
        method: 'rebase',
        reviewers: ['octocat', 'erp-lead'],
        timeout: '2h',
      }),
    );

    expect(config.stages[1]?.pullRequest).toEqual({
      merge: 'manual',
      method: 'rebase',
      reviewers: ['octocat', 'erp-lead'],
      timeout: 7_200,
    });
  });

  it('survives the trip through SHIPLANE_CONFIG', () => {
    const original = parseConfig(
      withPullRequest({ merge: 'manual', reviewers: ['octocat'], timeout: '90m' }),
    );

    expect(parseConfig(JSON.parse(serializeConfigInput(toConfigInput(original))))).toEqual(original);
  });

  it.each([
    ['no merge mode', {}, 'stages[1].pullRequest.merge', /expected auto or manual/],
    ['an unknown merge mode', { merge: 'always' }, 'stages[1].pullRequest.merge', /expected auto or manual/],
    [
      'an unknown method',
      { merge: 'auto', method: 'fast-forward' },
      'stages[1].pullRequest.method',
      /expected merge, squash or rebase/,
    ],
    [
      'a reviewer that is not a GitHub login',
      { merge: 'auto', reviewers: ['@octocat'] },
      'stages[1].pullRequest.reviewers[0]',
      /expected a GitHub login like octocat, got "@octocat"/,
    ],
    [
      'a timeout that is not a duration',
      { merge: 'manual', timeout: 'tomorrow' },
      'stages[1].pullRequest.timeout',
      /expected a duration like 90s, 15m or 24h, got "tomorrow"/,
    ],
    ['an unknown key', { merge: 'auto', autoMerge: true }, 'stages[1].pullRequest.autoMerge', /unknown key/],
  ])('refuses %s, naming the key', (_, pullRequest, path, message) => {
    expect(problemsOf(withPullRequest(pullRequest))).toContainEqual({
      path,
      message: expect.stringMatching(message),
    });
  });

  it('counts the wait for a merge in the run history budget', () => {
    const problems = problemsOf(withPullRequest({ merge: 'manual', timeout: '30d' }));

    expect(problems).toContainEqual({
      path: 'stages',
      message: expect.stringMatching(new RegExp(`under ${HISTORY_EVENT_BUDGET}.*pullRequest\\.timeout`)),
    });
  });
});

describe('the pull request poll schedule', () => {
  it('looks every 30 s for 10 minutes, every minute until the hour, then every 5 minutes', () => {
    expect(pullRequestPollSeconds(0, 86_400)).toBe(30);
    expect(pullRequestPollSeconds(599, 86_400)).toBe(30);
    expect(pullRequestPollSeconds(600, 86_400)).toBe(60);
    expect(pullRequestPollSeconds(3_600, 86_400)).toBe(300);
  });

  it('never waits past the deadline, and at least a second', () => {
    expect(pullRequestPollSeconds(5_000, 42)).toBe(42);
    expect(pullRequestPollSeconds(5_000, 0)).toBe(1);
  });

  it('keeps a 24 h wait to about 350 looks, well inside the history budget', () => {
    const looks = maxPullRequestPolls(86_400);

    expect(looks).toBe(1 + 20 + 50 + 276);
    expect(looks * HISTORY_EVENTS_PER_PULL_REQUEST_POLL).toBeLessThan(HISTORY_EVENT_BUDGET / 4);
  });
});
