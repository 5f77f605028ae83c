/**
 * Errors of the local engine. The names of those a caller may handle are the names the Step Functions
 * API uses (`ExecutionAlreadyExists`, `TaskTimedOut`, …), so code written against the SDK reads the
 * same locally.
 */
import { TerminalError } from '../../shared/errors.js';

/** The template or definition cannot run locally: the message names the state and what to change. */
export class LocalDefinitionError extends TerminalError {
  override name = 'LocalDefinitionError';
}

/** StartExecution with a name already used, by a closed execution or with a different input. */
export class ExecutionAlreadyExistsError extends Error {
  override name = 'ExecutionAlreadyExists';
}

export class ExecutionDoesNotExistError extends Error {
  override name = 'ExecutionDoesNotExist';
}

/** An execution name Step Functions would refuse (1–80 characters, no whitespace or special ones). */
export class InvalidNameError extends Error {
  override name = 'InvalidName';
}

/** Execution input that is not JSON. */
export class InvalidExecutionInputError extends Error {
  override name = 'InvalidExecutionInput';
}

/** A task token this engine never issued. */
export class InvalidTokenError extends Error {
  override name = 'InvalidToken';
}

/** A task token whose task has already closed: answered, timed out, or its execution stopped. */
export class TaskTimedOutError extends Error {
  override name = 'TaskTimedOut';
}

/**
 * How a failed task reaches the interpreter: `name` is what Retry and Catch match (`Error`), `message`
 * is the `Cause`. No `cause` is set, because the interpreter would report it instead of the message.
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/**
 * Ends the task of an execution that was stopped. The interpreter reads `isRetryable`/`isCatchable`, so
 * no Retry re-runs the task and no Catch moves on to the next state after the stop.
 */
export class ExecutionStoppedSignal extends Error {
  override name = 'Local.ExecutionStopped';
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor() {
    super('the execution was stopped');
  }
}
