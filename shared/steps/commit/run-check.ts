/**
 * Only the change a run is waiting for is written. Before the committer applies an image change it
 * asks about the run the change names (DescribeExecution and GetExecutionHistory in AWS) and requires
 * - that the run is still RUNNING, and that its input is the release the change writes (app, image,
 *   tag, digest) — cheap, and the clearest words for a stale or misdirected message;
 * - that the run waits for a commit now: its pending commit task (the newest
 *   `sqs:sendMessage.waitForTaskToken` task, not yet ended) was scheduled with exactly this request —
 *   the same task token and the same change (stage, file, release, rollback, …) as the state machine
 *   rendered. A message that names a running run but not what it waits for (production while staging
 *   is still pending, a rollback to a tag of the sender's choosing) is refused.
 * The message body is never trusted: a refused change is not written, and only a token the run's
 * pending commit task really waits on is answered (failed with the reason).
 */
import { isDeepStrictEqual } from 'node:util';
import {
  type CommitRequest,
  type ImageChange,
  type Release,
  runEntryOf,
  runInputSchema,
} from '../../contracts/tasks.js';
import { describeChange } from '../../domain/commit-message.js';
import { isValidExecutionName } from '../../domain/execution-name.js';
import { manualRollbackMismatch } from '../../domain/manual-rollback-check.js';
import type { PendingCommit, RunFacts, RunStatusReader } from '../../ports/run-status.js';

export type RunCheck =
  | { readonly verdict: 'allowed' }
  | {
      readonly verdict: 'refused';
      /** One line that says why, naming the run and the release (never the task token). */
      readonly reason: string;
      /**
       * Nobody waits for an answer on the request's token: the run is over (or never was), or the
       * token is not the one its pending commit task waits on. Only when false is the token failed.
       */
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

/** One answer per key per batch, however many of the batch's changes ask. */
function cachedBy<T>(lookUp: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    let found = cache.get(key);
    if (!found) {
      found = lookUp(key);
      cache.set(key, found);
    }
    return found;
  };
}

/**
 * A checker for one batch: each run is described once, and its history read once, however many of
 * the batch's changes name it. File changes (secret sync) belong to no run; their content is checked
 * instead (allowed-changes).
 */
export function runChecker(runs: RunStatusReader): CheckRun {
  const describeRun = cachedBy((execution) => runs.describe(execution));
  const pendingCommitOf = cachedBy((execution) => runs.pendingCommit(execution));

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
    const run = await describeRun(execution);
    if (!run) return refused(`no promotion run is named ${execution}`, true);
    if (run.status !== 'RUNNING') {
      return refused(
        `run ${execution} is ${run.status}, no longer RUNNING: a change of a run that ended is never written`,
        true,
      );
    }
    const pending = await pendingCommitOf(execution);
    // Whether the run's pending commit task waits on this very token: only then may it be failed.
    const waitsOnToken = pending?.kind === 'rendered' && pending.request.taskToken === taskToken;
    const otherRelease = releaseMismatch(execution, run, change);
    if (otherRelease) return refused(otherRelease, !waitsOnToken);
    const notPending = pendingMismatch(execution, request, change, pending);
    if (notPending) return refused(notPending, !waitsOnToken);
    return ALLOWED;
  };
}

/** Why the change does not write the release the run started with; undefined when it does. */
function releaseMismatch(execution: string, run: RunFacts, change: ImageChange): string | undefined {
  const input = runInputSchema.safeParse(run.input);
  if (!input.success) return `the input of run ${execution} is not a release`;
  const started = input.data.release;
  if (change.rollback && change.rollback.of !== execution) {
    return `run ${execution} sent the rollback of another run (${change.rollback.of})`;
  }
  const manual = manualRollbackMismatch(change, input.data);
  if (manual) return `run ${execution} ${manual}`;
  // A rollback writes the stage's earlier entry; the entry it undoes must be the run's own release.
  const entry = runEntryOf(change);
  const written = { ...change.release, tag: entry.tag, digest: entry.digest };
  const differs = WRITTEN.filter((field) => started[field] !== written[field]);
  if (differs.length === 0) return undefined;
  return `run ${execution} promotes ${describeRelease(started)}, but the change ${change.rollback ? 'rolls back' : 'writes'} ${describeRelease(written)} (${differs.join(', ')} differ)`;
}

/**
 * Why the request is not what the run's pending commit task was scheduled with; undefined when it is
 * exactly that (same token, execution, repository, branch and change). Never names the token.
 */
function pendingMismatch(
  execution: string,
  request: CommitRequest,
  change: ImageChange,
  pending: PendingCommit | undefined,
): string | undefined {
  if (!pending) {
    return `run ${execution} is not waiting for a commit (no commit task of it is pending): it did not send this change`;
  }
  if (pending.kind === 'unreadable') {
    return `the pending commit task of run ${execution} cannot be checked: ${pending.reason}; nothing is written unchecked`;
  }
  const rendered = pending.request;
  const waitsFor = `${describeChange(rendered.change)} (${rendered.change.file})`;
  if (rendered.taskToken !== request.taskToken) {
    return `the task token is not the one run ${execution} waits on for its pending commit, ${waitsFor}`;
  }
  const { taskToken: _rendered, ...expected } = rendered;
  const { taskToken: _received, ...received } = request;
  const differs = differingFields(expected, received);
  if (differs.length === 0) return undefined;
  return `run ${execution} waits for ${waitsFor}, but the message asks to ${describeChange(change)} (${change.file}) (${differs.join(', ')} differ)`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The dotted paths where two JSON values differ (`change.stage`, `change.rollback.fromTag`). */
function differingFields(expected: unknown, received: unknown, path = ''): string[] {
  if (isRecord(expected) && isRecord(received)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(received)]);
    return [...keys].flatMap((key) =>
      differingFields(expected[key], received[key], path ? `${path}.${key}` : key),
    );
  }
  return isDeepStrictEqual(expected, received) ? [] : [path || '(body)'];
}
