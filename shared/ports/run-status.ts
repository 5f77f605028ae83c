/**
 * What the committer asks about the run a commit request names before it writes anything: is it
 * still running, what release did it start with, and which commit is it waiting for right now?
 * Step Functions answers in AWS (shared/adapters/aws/run-status.ts); the local engine answers for
 * its own executions (local/engine/run-status.ts).
 */
import type { PendingCommit } from '../domain/pending-commit.js';

export type { PendingCommit } from '../domain/pending-commit.js';

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
  /**
   * The commit request the execution's pending commit task was scheduled with (the message body the
   * state machine rendered, task token included), `unreadable` with the reason when what it was
   * scheduled with cannot be read, and undefined when the execution waits for no commit (or does not
   * exist). Throws, like `describe`, when the question is worth asking again later.
   */
  pendingCommit(execution: string): Promise<PendingCommit | undefined>;
}
