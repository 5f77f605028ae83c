/**
 * The change-freeze rule for approvals, kept by every way to decide one (a Slack click, `shiplane
 * approve`, the sandbox's console): while the approval's stage is frozen, Approve alone is refused,
 * and only a break glass — an approval with a reason — goes through, recorded as such. A manual
 * rollback is never held by a freeze (the state machine lets it through: recovery stays possible),
 * so its approval breaks none.
 */
import type { FreezeWindowConfig } from '../../config/freeze.js';
import type { BreakGlass } from '../../domain/approval.js';
import { freezeNotice, freezeStateAt } from '../../domain/freeze-window.js';
import type { ApprovalRecord } from '../../ports/approvals-store.js';

/**
 * The freeze an approval would break now, if its stage is frozen. `windows`: the stage's windows in
 * the config the caller runs with; without them (the CLI reads no config), the windows the run's
 * request stored on the approval.
 */
export function freezeToBreak(
  record: ApprovalRecord,
  windows: readonly FreezeWindowConfig[] | undefined,
  now: Date,
): BreakGlass | undefined {
  if (record.facts.rollback) return undefined;
  const state = freezeStateAt(windows ?? record.freeze ?? [], now);
  if (state.status === 'open') return undefined;
  return { until: state.until.toISOString(), freeze: freezeNotice(record.stage, state, now) };
}

/** What a decision asks of the freeze rule: whether it breaks the glass, and its reason. */
export interface FreezeDecision {
  readonly decision: 'approved' | 'rejected';
  readonly breakGlass?: boolean;
  readonly reason?: string;
}

/**
 * The rule for a decision made outside Slack (`shiplane approve`, the sandbox's console): the break
 * glass it records, or the problem that refuses it (nothing decided). A rejection is never held; an
 * approval during a freeze needs `breakGlass` and a reason; a break glass outside a freeze is refused,
 * so nobody records one that broke nothing.
 */
export function freezeRuleFor(
  request: FreezeDecision,
  record: ApprovalRecord,
  windows: readonly FreezeWindowConfig[] | undefined,
  now: Date,
): { readonly breakGlass?: BreakGlass } | { readonly problem: string } {
  if (request.decision === 'rejected') {
    return request.breakGlass ? { problem: 'break glass is for approving; a rejection needs none' } : {};
  }
  const frozen = freezeToBreak(record, windows, now);
  if (!frozen) {
    return request.breakGlass
      ? { problem: `${record.stage} is not frozen now: there is no glass to break (approve without it)` }
      : {};
  }
  if (!request.breakGlass) {
    return {
      problem: `${frozen.freeze}; approving during a change freeze needs break glass with a reason`,
    };
  }
  if (!request.reason?.trim())
    return { problem: `break glass needs a reason: say why ${frozen.freeze} is broken` };
  return { breakGlass: frozen };
}
