/**
 * Which runs `shiplane retry` may start again. A retry repeats a release that did not get out: a
 * failure, a rejection, an expired approval. A run that is still going, that deployed, or that a newer
 * release superseded has nothing to retry.
 */
import { asRunOutcome, RUN_OUTCOMES } from '../contracts/tasks.js';

/** What the rule needs of a run: its Step Functions status and its output (`outcome`). */
export interface RunState {
  readonly status: string;
  readonly output: unknown;
}

/** The run's outcome: the output's `outcome`, or `failed` for a run that failed, timed out or was stopped. */
export function outcomeOfRun(run: RunState): string | undefined {
  const outcome =
    typeof run.output === 'object' && run.output !== null
      ? (run.output as { outcome?: unknown }).outcome
      : undefined;
  if (typeof outcome === 'string') return outcome;
  return ['FAILED', 'TIMED_OUT', 'ABORTED'].includes(run.status) ? 'failed' : undefined;
}

/**
 * Why the run may not be retried, as the end of a sentence about it (`… is still running`);
 * `undefined` when it may.
 */
export function retryRefusal(run: RunState): string | undefined {
  if (run.status === 'RUNNING' || run.status === 'PENDING_REDRIVE') {
    return 'is still running; wait for it to end';
  }
  if (run.status !== 'SUCCEEDED') return undefined;
  const outcome = outcomeOfRun(run);
  // A run that ended SUCCEEDED and still left its release undeployed: rejected, expired.
  const known = asRunOutcome(outcome);
  if (known && RUN_OUTCOMES[known].ends === 'SUCCEEDED' && !RUN_OUTCOMES[known].settled) return undefined;
  if (outcome === 'deployed') return 'deployed its release; push a new tag to release again';
  if (outcome === 'superseded') {
    return 'was superseded: a newer release is already in the stage, so a retry would not deploy it';
  }
  return `ended ${outcome ? `\`${outcome}\`` : 'without an outcome'}, which is not a failure to retry`;
}
