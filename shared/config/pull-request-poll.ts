/**
 * How often a run looks at its pull request (`stages[].pullRequest`) while it waits for a merge:
 * every 30 s for the first 10 minutes (an `auto` merge after quick checks lands fast), every minute
 * until the first hour, then every 5 minutes. A 24 h wait is then about 350 looks instead of 2,880,
 * which keeps the run's Step Functions history far under its 25,000 events (schema.ts counts them).
 */

/** The waits, in seconds, and until how long after opening each applies. */
export const PULL_REQUEST_POLL_SCHEDULE: ReadonlyArray<{ readonly until: number; readonly every: number }> = [
  { until: 600, every: 30 },
  { until: 3_600, every: 60 },
  { until: Number.POSITIVE_INFINITY, every: 300 },
];

/** The history events one look writes: the check task (5), the Choice (2), the Wait (2), and spare for a retry. */
export const HISTORY_EVENTS_PER_PULL_REQUEST_POLL = 12;

/**
 * The seconds to wait before the next look, `elapsed` seconds after the pull request was opened and
 * `remaining` seconds before its deadline: never past the deadline, and at least 1 s.
 */
export function pullRequestPollSeconds(elapsed: number, remaining: number): number {
  const step = PULL_REQUEST_POLL_SCHEDULE.find((entry) => elapsed < entry.until)?.every ?? 300;
  return Math.max(1, Math.min(step, Math.ceil(remaining)));
}

/** How many looks a wait of `timeout` seconds takes at most (the first, right after opening, included). */
export function maxPullRequestPolls(timeout: number): number {
  let elapsed = 0;
  let looks = 1;
  while (elapsed < timeout) {
    elapsed += pullRequestPollSeconds(elapsed, timeout - elapsed);
    looks += 1;
  }
  return looks;
}
