/**
 * The freeze check (`<Stage> · Check freeze`), answered by the notify function because it already
 * holds the release thread: is the stage frozen now, and until when? Frozen, it says so in the
 * thread (`production frozen until Mon 06:00 JST: release freeze`) and the run waits until the end
 * and asks again, so a window that opened meanwhile is seen. It fails closed: a stage it has no
 * windows for (a config out of step with the state machine) is an error, which fails the run.
 */
import type { FreezeCheck, FreezeStatus } from '../../contracts/freeze.js';
import { freezeNotice, freezeStateAt } from '../../domain/freeze-window.js';
import { type NotifyDeps, notify } from './notify.js';

export async function checkFreeze(check: FreezeCheck, deps: NotifyDeps): Promise<FreezeStatus> {
  const windows = deps.freezeWindows?.(check.stage);
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
  deps.reporter.info('stage frozen', {
    execution: check.execution,
    stage: check.stage,
    until: status.until,
  });
  // notify never throws for Slack or the tables: the wait happens whatever the thread says.
  await notify(
    {
      event: 'frozen',
      execution: check.execution,
      release: check.release,
      stage: check.stage,
      detail: status,
    },
    deps,
  );
  return status;
}
