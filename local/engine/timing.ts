/** How long things take in a local run, and what that changes in the definition's states. */

/** How long things take in a local run. Leave a field out for AWS's timing. */
export interface LocalTiming {
  /** Every Wait state for a duration waits this long instead (0 in tests, a second or two in the sandbox). */
  readonly waitSeconds?: number;
  /** Every Retry waits this long between attempts instead of IntervalSeconds × BackoffRate. */
  readonly retryIntervalMs?: number;
  /** Multiplies every Task's TimeoutSeconds (e.g. 1/3600 makes a 24 h approval expire in 24 s). @default 1 */
  readonly taskTimeoutScale?: number;
  /** A Task's timeout in milliseconds, by state name; wins over the scale. */
  readonly taskTimeoutsMs?: Readonly<Record<string, number>>;
  /** How long a failed queue message stays invisible before it is received again. @default 0 */
  readonly redeliveryDelayMs?: number;
  /** Receives before a failed queue message is dead-lettered. @default the queue's redrive policy, else 5 */
  readonly maxReceiveCount?: number;
}

/** A Task's effective timeout: an override, the declared one scaled, or none (AWS has no default). */
export function timeoutMs(
  timing: LocalTiming,
  state: string,
  declaredSeconds: number | undefined,
): number | undefined {
  const override = timing.taskTimeoutsMs?.[state];
  if (override !== undefined) return override;
  if (declaredSeconds === undefined) return undefined;
  return declaredSeconds * 1000 * (timing.taskTimeoutScale ?? 1);
}

/** The interpreter's per-state overrides for Wait durations and Retry intervals. */
export function timingOverrides(
  states: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  timing: LocalTiming,
): { waitTimeOverrides: Record<string, number>; retryIntervalOverrides: Record<string, number> } {
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of states) {
    // A Wait until an instant (a change freeze's end) keeps it: waiting less would only ask again early.
    const untilInstant = state.Timestamp !== undefined || state.TimestampPath !== undefined;
    if (state.Type === 'Wait' && timing.waitSeconds !== undefined && !untilInstant)
      waitTimeOverrides[name] = timing.waitSeconds * 1000;
    if (Array.isArray(state.Retry) && timing.retryIntervalMs !== undefined) {
      retryIntervalOverrides[name] = timing.retryIntervalMs;
    }
  }
  return { waitTimeOverrides, retryIntervalOverrides };
}
