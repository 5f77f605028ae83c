/**
 * Only a run that is RUNNING may write its release: before the committer applies an image change it
 * asks for the run the change names (DescribeExecution in AWS) and requires that the run is still
 * running and that its input is the release the change writes (app, image, tag, digest). A message
 * someone else put on the queue, or one redelivered after its run failed, timed out or was stopped,
 * is refused and nothing is written for it.
 */
import { type CommitRequest, type Release, runEntryOf, runInputSchema } from '../contracts/tasks.js';
import { isValidExecutionName } from '../domain/execution-name.js';
import type { RunFacts, RunStatusReader } from '../ports/run-status.js';
import { manualRollbackMismatch } from './manual-rollback-check.js';

export type RunCheck =
  | { readonly verdict: 'allowed' }
  | {
      readonly verdict: 'refused';
      /** One line that says why, naming the run and the release (never the task token). */
      readonly reason: string;
      /** The run is over (or never was): nobody waits for an answer. */
      readonly finished: boolean;
    };

/** Checks one request; throws when the run could not be looked up now (ask again later). */
export type CheckRun = (request: CommitRequest) => Promise<RunCheck>;

const ALLOWED: RunCheck = { verdict: 'allowed' };
const refused = (reason: string, finished: boolean): RunCheck => ({ verdict: 'refused', reason, finished });

/** The fields of a release that decide what is written. */
const WRITTEN = ['app', 'image', 'newName', 'tag', 'digest'] as const satisfies ReadonlyArray<keyof Release>;

const describeRelease = (release: Release) =>
  `${release.app} ${release.tag} (${release.image}${release.newName ? ` as ${release.newName}` : ''}@${release.digest})`;

/**
 * A checker for one batch: each run is looked up once however many of the batch's changes name it.
 * File changes (secret sync) belong to no run; their content is checked instead (allowed-changes).
 */
export function runChecker(runs: RunStatusReader): CheckRun {
  const cache = new Map<string, Promise<RunFacts | undefined>>();
  const lookUp = (execution: string) => {
    let found = cache.get(execution);
    if (!found) {
      found = runs.describe(execution);
      cache.set(execution, found);
    }
    return found;
  };

  return async (request) => {
    const { change } = request;
    if (change.kind !== 'image') return ALLOWED;
    const { execution, taskToken } = request;
    if (!taskToken || !execution) {
      return refused(
        'an image change must carry the task token and execution name of the run that waits for it',
        true,
      );
    }
    if (!isValidExecutionName(execution)) {
      return refused(`${JSON.stringify(execution)} is not a promotion execution name`, true);
    }
    const run = await lookUp(execution);
    if (!run) return refused(`no promotion run is named ${execution}`, true);
    if (run.status !== 'RUNNING') {
      return refused(
        `run ${execution} is ${run.status}, no longer RUNNING: a change of a run that ended is never written`,
        true,
      );
    }
    const input = runInputSchema.safeParse(run.input);
    if (!input.success) return refused(`the input of run ${execution} is not a release`, false);
    const started = input.data.release;
    if (change.rollback && change.rollback.of !== execution) {
      return refused(`run ${execution} sent the rollback of another run (${change.rollback.of})`, false);
    }
    const mismatch = manualRollbackMismatch(change, input.data);
    if (mismatch) return refused(`run ${execution} ${mismatch}`, false);
    // A rollback writes the stage's earlier entry; the entry it undoes must be the run's own release.
    const entry = runEntryOf(change);
    const written = { ...change.release, tag: entry.tag, digest: entry.digest };
    const differs = WRITTEN.filter((field) => started[field] !== written[field]);
    if (differs.length > 0) {
      return refused(
        `run ${execution} promotes ${describeRelease(started)}, but the change ${change.rollback ? 'rolls back' : 'writes'} ${describeRelease(written)} (${differs.join(', ')} differ)`,
        false,
      );
    }
    return ALLOWED;
  };
}
