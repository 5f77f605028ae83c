/**
 * What the committer asks about the run a commit request names before it writes anything: is it
 * still running, and what release did it start with? Step Functions answers in AWS
 * (shared/adapters/aws/run-status.ts); the local engine answers for its own executions.
 */

/** One execution of the promotion state machine, as far as the committer needs it. */
export interface RunFacts {
  /** Step Functions' status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  readonly status: string;
  /** The execution's input, parsed from JSON (the intake writes `{ release }`). */
  readonly input: unknown;
}

export interface RunStatusReader {
  /**
   * The execution of the promotion state machine with this name; undefined when there is none.
   * Anything else that goes wrong (throttling, a network error) throws: the question is worth
   * asking again later.
   */
  describe(execution: string): Promise<RunFacts | undefined>;
}
