/**
 * `shiplane retry`: starts a new run of the same release after a failed, rejected or expired one,
 * named `<original>-r2`, `-r3`… (the next name no run has taken) and recorded as a retry of the
 * original (`retryOf` in the run input). The same function serves a deployed stack (Step Functions)
 * and the sandbox (the local engine); only the `RetryTarget` differs.
 */

import { type RunInput, runInputSchema } from '../../contracts/tasks.js';
import { retryExecutionName } from '../../domain/execution-name.js';
import { retryRefusal } from '../../domain/retry.js';
import type { StartExecutionResult } from '../../ports/executions.js';

/** One run as the retry needs it: DescribeExecution's status, input and output. */
export interface RunRecord {
  readonly name: string;
  readonly status: string;
  readonly input: unknown;
  readonly output: unknown;
}

/** Where runs are read and started. */
export interface RetryTarget {
  /** Ends the "no execution X …" message: `on <state machine ARN>`, `in the sandbox at <URL>`. */
  readonly where: string;
  /** The run of that name, or `undefined` when there is none. */
  find(name: string): Promise<RunRecord | undefined>;
  start(name: string, input: RunInput): Promise<StartExecutionResult>;
}

export type RetryResult =
  | {
      readonly result: 'started';
      readonly execution: string;
      readonly executionArn: string;
      /** The release's first run, which every retry names. */
      readonly retryOf: string;
      readonly attempt: number;
    }
  | { readonly result: 'refused'; readonly message: string }
  | { readonly result: 'not-found'; readonly message: string };

/** `-r99` at most: a release that failed this often needs a new tag, not another retry. */
export const MAX_RETRY_ATTEMPT = 99;

/** Retries the run `name`: checks it may be retried, then starts the next free `-rN`. */
export async function retryRun(name: string, target: RetryTarget): Promise<RetryResult> {
  const run = await target.find(name);
  if (!run) return { result: 'not-found', message: `no execution ${name} ${target.where}` };
  const refusal = retryRefusal(run);
  if (refusal) return { result: 'refused', message: `${name} ${refusal}` };
  const parsed = runInputSchema.safeParse(run.input);
  if (!parsed.success) {
    return {
      result: 'refused',
      message: `${name} is not a promotion run Shiplane can repeat: its input is not a run input (${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`)
        .join('; ')})`,
    };
  }
  // Every retry names the release's first run, so `retry X-r2` continues X's numbering.
  const original = parsed.data.retryOf ?? name;
  // A manual rollback's retry is the same rollback again (the committer still checks its `from`).
  const input: RunInput = {
    release: parsed.data.release,
    retryOf: original,
    ...(parsed.data.rollback ? { rollback: parsed.data.rollback } : {}),
  };
  for (let attempt = 2; attempt <= MAX_RETRY_ATTEMPT; attempt++) {
    const candidate = retryExecutionName(original, attempt);
    if (candidate !== name) {
      const existing = await target.find(candidate);
      if (existing) {
        const blocked = retryRefusal(existing);
        if (blocked) {
          return {
            result: 'refused',
            message: `${candidate}, a retry of the same release, ${blocked}`,
          };
        }
        continue;
      }
      const started = await target.start(candidate, input);
      // Someone else took the name between the look and the start: try the next one.
      if (started.status === 'already-exists') continue;
      return {
        result: 'started',
        execution: candidate,
        executionArn: started.executionArn,
        retryOf: original,
        attempt,
      };
    }
  }
  return {
    result: 'refused',
    message: `${original} has been retried ${MAX_RETRY_ATTEMPT - 1} times; push a new tag instead`,
  };
}
