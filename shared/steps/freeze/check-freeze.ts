/**
 * The freeze check (`<Stage> · Check freeze`): is the stage frozen now, and until when? Frozen, the
 * state machine says so in the thread (`<Stage> · Notify frozen`, from this answer's `notice`), waits
 * until the end and asks again, so a window that opened meanwhile is seen. It fails closed: a stage
 * it has no windows for (a config out of step with the state machine) is an error, which fails the run.
 *
 * Its own small function, the one that computes cron windows (croner) in the promotion: notify stays
 * within its bundle size, and the check needs no AWS permission at all.
 */
import type { FreezeWindowConfig } from '../../config/freeze.js';
import type { FreezeCheck, FreezeStatus } from '../../contracts/freeze.js';
import { freezeNotice, freezeStateAt } from '../../domain/freeze-window.js';
import type { Reporter } from '../../ports/reporter.js';

export interface FreezeCheckDeps {
  /** A stage's change-freeze windows; undefined for a stage the config lacks. */
  readonly freezeWindows: (stage: string) => readonly FreezeWindowConfig[] | undefined;
  readonly now: () => Date;
  readonly reporter: Reporter;
}

export function checkFreeze(check: FreezeCheck, deps: FreezeCheckDeps): FreezeStatus {
  const windows = deps.freezeWindows(check.stage);
  if (!windows) {
    throw new Error(`no stage ${check.stage} in this function's config; cannot tell whether it is frozen`);
  }
  const now = deps.now();
  const state = freezeStateAt(windows, now);
  const checkedAt = now.toISOString();
  if (state.status === 'open') {
    deps.reporter.info('stage not frozen', { execution: check.execution, stage: check.stage });
    return { status: 'open', checkedAt };
  }
  const status: FreezeStatus = {
    status: 'frozen',
    until: state.until.toISOString(),
    reason: state.reasons.join('; '),
    timeZone: state.timeZone,
    notice: freezeNotice(check.stage, state, now),
    checkedAt,
  };
  deps.reporter.info('stage frozen', { execution: check.execution, stage: check.stage, until: status.until });
  return status;
}
