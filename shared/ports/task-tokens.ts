/**
 * Answers a run that waits on a task token, and reads what the run did since. In AWS this is
 * SendTaskSuccess / SendTaskFailure and GetExecutionHistory (shared/adapters/aws/task-tokens.ts);
 * the local engine passes its own implementation, so steps never know which one they talk to.
 */
import type { HistoryEventLike } from '../domain/execution-timeline.js';

/** A GetExecutionHistory event, with the task-result details the decision path reads. */
export interface RunEvent extends HistoryEventLike {
  readonly taskSucceededEventDetails?: { readonly output?: string | undefined } | undefined;
}

/** A run's newest history events first (GetExecutionHistory with reverseOrder). */
export type RecentRunEvents = (execution: string, signal?: AbortSignal) => Promise<readonly RunEvent[]>;

export interface TaskTokens {
  succeed(token: string, output: unknown): Promise<void>;
  /** `error` is the name the state machine's Catch/Retry matches; `cause` says what to fix. */
  fail(token: string, error: string, cause: string): Promise<void>;
}
