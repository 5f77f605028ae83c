/**
 * The task tokens of a local run. A `.waitForTaskToken` task parks on a promise keyed by its token until
 * `succeed` / `fail` answers it. A token answers once; after that, or after its task timed out or its
 * execution stopped, answering it is `TaskTimedOut`, as Step Functions says.
 */
import { randomBytes } from 'node:crypto';
import { InvalidTokenError, TaskFailure, TaskTimedOutError } from './errors.js';

/** setTimeout's ceiling (about 24.8 days); longer timeouts would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A `.waitForTaskToken` task an execution waits on now (its token is parked), with the parameters it
 * was scheduled with: the same text as its TaskScheduled event. Known from the moment the token is
 * parked, before the task's message is sent.
 */
export interface WaitingTask {
  readonly state: string;
  /** As in history events: `sqs`, `lambda`. */
  readonly resourceType: string;
  /** As in history events: `sendMessage.waitForTaskToken`, `invoke.waitForTaskToken`. */
  readonly resource: string;
  /** The resolved Parameters as JSON text, the task token included. */
  readonly parameters: string;
}

interface Parked {
  readonly execution: string;
  readonly task: WaitingTask;
  readonly resolve: (output: unknown) => void;
  readonly reject: (failure: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class TokenRegistry {
  private readonly parked = new Map<string, Parked>();
  private readonly issued = new Set<string>();
  /** The token `$$.Task.Token` returned for a state's input that no task has claimed yet. */
  private readonly unclaimed = new Map<string, string>();

  /**
   * `$$.Task.Token` for `execution`. Every read while a state builds its input returns the same token;
   * the task claims it, and the next task gets a fresh one.
   */
  mint(execution: string): string {
    let token = this.unclaimed.get(execution);
    if (!token) {
      token = `local:${randomBytes(48).toString('base64url')}`;
      this.unclaimed.set(execution, token);
      this.issued.add(token);
    }
    return token;
  }

  /** Takes the token the current task's input read, if it read one. */
  claim(execution: string): string | undefined {
    const token = this.unclaimed.get(execution);
    this.unclaimed.delete(execution);
    return token;
  }

  /**
   * Waits for the answer to `token`. After `timeoutMs` the token closes (the interpreter's own timer,
   * set with the same duration right after, fails the task with States.Timeout).
   */
  park(token: string, execution: string, task: WaitingTask, timeoutMs: number): Promise<unknown> {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const entry: Parked = { execution, task, resolve, reject, timer: undefined };
    if (timeoutMs < MAX_TIMER_MS) entry.timer = setTimeout(() => this.close(token), timeoutMs);
    this.parked.set(token, entry);
    // The task may time out before anyone awaits a rejection.
    promise.catch(() => undefined);
    return promise;
  }

  isWaiting(token: string): boolean {
    return this.parked.has(token);
  }

  /** Which execution and state wait on `token`, if any. */
  waiter(token: string): { execution: string; state: string } | undefined {
    const entry = this.parked.get(token);
    return entry ? { execution: entry.execution, state: entry.task.state } : undefined;
  }

  /** The tasks `execution` waits on now, oldest first: answered, timed-out and closed tokens are gone. */
  waitingTasks(execution: string): WaitingTask[] {
    return [...this.parked.values()]
      .filter((entry) => entry.execution === execution)
      .map((entry) => entry.task);
  }

  succeed(token: string, output: unknown): void {
    this.peek(token);
    let json: unknown;
    try {
      json = output === undefined ? null : JSON.parse(JSON.stringify(output));
    } catch (error) {
      throw new TypeError(`task output is not JSON: ${(error as Error).message}`);
    }
    this.take(token).resolve(json);
  }

  fail(token: string, error: string, cause: string): void {
    this.take(token).reject(new TaskFailure(error, cause));
  }

  /** Closes a token without answering it: a late answer is TaskTimedOut. */
  close(token: string): void {
    const entry = this.parked.get(token);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.parked.delete(token);
  }

  /**
   * Closes every token of a finished or stopped execution. The waiting tasks end with `reason`, which
   * the interpreter may neither retry nor catch, so they release their timers and call nothing more.
   */
  closeExecution(execution: string, reason: Error): void {
    this.unclaimed.delete(execution);
    for (const [token, entry] of [...this.parked]) {
      if (entry.execution !== execution) continue;
      this.close(token);
      entry.reject(reason as TaskFailure);
    }
  }

  private take(token: string): Parked {
    const entry = this.peek(token);
    clearTimeout(entry.timer);
    this.parked.delete(token);
    return entry;
  }

  private peek(token: string): Parked {
    const entry = this.parked.get(token);
    if (!entry) {
      if (this.issued.has(token)) {
        throw new TaskTimedOutError('the task token has expired or its task has already been closed');
      }
      throw new InvalidTokenError('the task token is not one this engine issued');
    }
    return entry;
  }
}
