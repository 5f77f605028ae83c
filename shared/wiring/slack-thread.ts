/**
 * Slack as the release thread's steps use it (notify and request-approval): a person is not waiting
 * on the other end, so a call is retried, but a Slack outage must not eat the function's time.
 */
import type { SlackWebApiOptions } from '../adapters/slack/web-api.js';

/** Three attempts of at most 3 s: the functions have 30 s and stop calling Slack after an outage. */
export const THREAD_SLACK = {
  retries: 2,
  timeoutMs: 3_000,
} as const satisfies Pick<SlackWebApiOptions, 'retries' | 'timeoutMs'>;
