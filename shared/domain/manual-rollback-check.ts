/**
 * The run check's rule for manual rollbacks (`shiplane rollback`). A manual rollback's change may
 * move a stage back to an older version, so the mark that allows it (`manualRollback`) must come
 * from the run itself: the change must carry exactly the `rollback` the run's input was started
 * with (set by the CLI at StartExecution), for that stage only. A normal run cannot send such a
 * change, and a rollback run cannot send anything else.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ImageChange, RunInput } from '../contracts/tasks.js';

/** Why the change does not match the manual rollback its run asks for (or it asks for none); undefined when it does. */
export function manualRollbackMismatch(change: ImageChange, input: RunInput): string | undefined {
  const asked = input.rollback;
  const sent = change.manualRollback;
  if (!asked && !sent) return undefined;
  if (!asked) {
    return `is not a manual rollback, but sent a change marked as one (${change.release.app} ${change.release.tag} in ${change.stage})`;
  }
  if (change.stage !== asked.stage) {
    return `is the manual rollback of ${asked.stage} and may change nothing else, but sent a change to ${change.stage}`;
  }
  if (!sent || change.rollback) {
    return `is the manual rollback of ${asked.stage} and may write only that rollback, but sent a change not marked as it`;
  }
  if (!isDeepStrictEqual(sent, asked)) {
    return `was started to roll back ${asked.stage} as its input says, but the change carries another rollback (${JSON.stringify(sent)})`;
  }
  return undefined;
}
