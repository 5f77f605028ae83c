/**
 * Promotion runs: starting one (the intake, `shiplane retry`) and reading them (`shiplane runs`,
 * `shiplane show`, the sandbox console). Step Functions answers in AWS
 * (shared/adapters/aws/step-functions.ts, executions.ts); the local engine and a running sandbox
 * answer the same questions, so a step never knows which one it talks to.
 */
import type { RunInput } from '../contracts/tasks.js';
import type { HistoryEventLike } from '../domain/execution-timeline.js';
import { TerminalError } from '../errors.js';

export interface StartExecutionRequest {
  /** Deterministic per release (see shared/domain/execution-name.ts). */
  readonly name: string;
  readonly input: RunInput;
}

/**
 * `started`: a new execution runs. `already-exists`: an execution with that name ran, or runs (with a
 * different input, or with the same one since before this request: StartExecution is idempotent then
 * and answers with that execution) — for Shiplane, the same release seen again.
 */
export type StartExecutionResult =
  | { readonly status: 'started'; readonly executionArn: string }
  | { readonly status: 'already-exists' };

export type StartExecution = (request: StartExecutionRequest) => Promise<StartExecutionResult>;

export class ExecutionNotFoundError extends TerminalError {
  override name = 'ExecutionNotFoundError';
}

/** One line of `shiplane runs`. */
export interface ExecutionListItem {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly startDate: Date | undefined;
  readonly stopDate: Date | undefined;
}

/** DescribeExecution: a run's input, output and, when it failed, its error. */
export interface ExecutionDescription extends ExecutionListItem {
  readonly input: unknown;
  readonly output: unknown;
  readonly error: string | undefined;
  readonly cause: string | undefined;
}

/** Everything `shiplane show` prints about one run: the description and the whole history. */
export interface ExecutionDetail extends ExecutionDescription {
  readonly events: readonly HistoryEventLike[];
}

export interface ExecutionFilter {
  /** A Step Functions status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED). */
  readonly status?: string;
  /** Keep executions whose name starts with this (an app's runs start with appNamePrefix(app)). */
  readonly namePrefix?: string;
  /** Stop after this many matches. @default 50 */
  readonly max?: number;
}

/** What both the AWS reader and the sandbox client answer. */
export interface ExecutionReader {
  list(filter?: ExecutionFilter): Promise<ExecutionListItem[]>;
  describe(nameOrArn: string): Promise<ExecutionDescription>;
  get(nameOrArn: string): Promise<ExecutionDetail>;
}
