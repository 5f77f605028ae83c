/**
 * The one decision path, for a Slack click and for the CLI: claim the approval in the table (a
 * conditional update from `pending`, so only the first decision counts), then tell the waiting run
 * through its task token. A claim the run cannot receive is either expired (the run stopped
 * waiting) or released again (Step Functions was unreachable), so the table never says "approved"
 * for a run that was not told.
 *
 * Step Functions' answer can be ambiguous: a SendTaskSuccess that times out may have landed, and the
 * SDK's retry of it then hears TaskTimedOut or InvalidToken because the first attempt closed the
 * token. Then the run's own history says what happened (`run-answer.ts`): the decision it received
 * is recorded and reported (this one, or an earlier click's that looked lost), and only a run that
 * really stopped waiting makes the approval expired.
 */

import { type ApprovalDecision, ERRORS } from '../../contracts/tasks.js';
import {
  type BreakGlass,
  type Decision,
  decisionFromRejection,
  rejectionCause,
} from '../../domain/approval.js';

// The rejection's Cause is written and read in the domain (`shiplane show` reads it too).
export { decisionFromRejection, rejectionCause };

import type { ApprovalRecord, ApprovalsStore } from '../../ports/approvals-store.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { RecentRunEvents, TaskTokens } from '../../ports/task-tokens.js';
import { type RunAnswer, runAnswer } from './run-answer.js';

export interface DecisionRequest {
  readonly approvalId: string;
  readonly decision: 'approved' | 'rejected';
  readonly by: string;
  readonly byName?: string;
  readonly reason?: string;
  readonly via: 'slack' | 'cli';
  /** An approval during a change freeze; the caller has checked the reason. */
  readonly breakGlass?: BreakGlass;
}

export type DecisionOutcome =
  | { readonly kind: 'decided'; readonly record: ApprovalRecord; readonly decision: Decision }
  | { readonly kind: 'already-decided'; readonly record: ApprovalRecord }
  | { readonly kind: 'expired'; readonly record: ApprovalRecord }
  | { readonly kind: 'superseded'; readonly record: ApprovalRecord }
  | { readonly kind: 'not-found' }
  /** Step Functions could not be reached; nothing was decided and the approval is pending again. */
  | { readonly kind: 'unavailable'; readonly record: ApprovalRecord; readonly error: Error }
  /**
   * The token is over but the run's history did not say (in time) what the run did with it; the
   * claim is released, so a later click asks again.
   */
  | { readonly kind: 'unconfirmed'; readonly record: ApprovalRecord };

export interface DecideDeps {
  readonly store: ApprovalsStore;
  readonly taskTokens: TaskTokens;
  readonly now: () => Date;
  readonly reporter: Reporter;
  /**
   * The run's newest history events, read when Step Functions' answer is ambiguous. Without it a
   * token that is over counts as expired.
   */
  readonly runEvents?: RecentRunEvents;
  /** How long reading them may take now, in milliseconds; 0 or less skips it. @default 2_000 */
  readonly runEventsTimeoutMs?: () => number;
}

/** Step Functions' answers for a token the run no longer waits on. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** What the run receives on approval (its `$.stages.<stage>.approval`). */
export function approvalOutput(approvalId: string, decision: Decision): ApprovalDecision {
  return {
    decision: 'approved',
    approvalId,
    by: decision.by,
    ...(decision.byName ? { byName: decision.byName } : {}),
    at: decision.at,
    ...(decision.reason ? { reason: decision.reason } : {}),
    via: decision.via,
    ...(decision.breakGlass ? { breakGlass: decision.breakGlass } : {}),
  };
}

/** Reads what the run did with the approval; `unknown` when it cannot be read in time. */
async function readRun(record: ApprovalRecord, deps: DecideDeps): Promise<RunAnswer> {
  if (!deps.runEvents) return { kind: 'unknown' };
  const timeoutMs = deps.runEventsTimeoutMs?.() ?? 2_000;
  if (timeoutMs <= 0) return { kind: 'unknown' };
  try {
    const events = await deps.runEvents(record.execution, AbortSignal.timeout(timeoutMs));
    return runAnswer(events, record.approvalId, record.stage);
  } catch (error) {
    deps.reporter.warn("could not read the run's history to see what it did with the decision", {
      approvalId: record.approvalId,
      execution: record.execution,
      ...errorAttributes(error),
    });
    return { kind: 'unknown' };
  }
}

/**
 * Records what the run did when that is known: our decision (`decided`), an earlier one that
 * landed although it looked lost (`already-decided`, the table corrected), expiry or supersession.
 */
async function settle(
  record: ApprovalRecord,
  decision: Decision,
  answer: RunAnswer,
  deps: DecideDeps,
): Promise<DecisionOutcome | undefined> {
  let actual: Decision | undefined;
  switch (answer.kind) {
    case 'approved': {
      const got = answer.decision;
      actual = {
        status: 'approved',
        by: got.by,
        ...(got.byName ? { byName: got.byName } : {}),
        at: got.at,
        ...(got.reason ? { reason: got.reason } : {}),
        via: got.via,
      };
      break;
    }
    case 'rejected':
      actual =
        answer.cause === rejectionCause(decision) && decision.status === 'rejected'
          ? decision
          : decisionFromRejection(answer.cause, answer.at ?? decision.at);
      break;
    case 'expired':
    case 'superseded':
      await deps.store.closeApproval(record.approvalId, [decision.status], answer.kind, decision.at);
      return { kind: answer.kind, record: { ...record, status: answer.kind, closedAt: decision.at } };
    case 'unknown':
      return undefined;
  }
  if (!actual) return undefined;
  const context = { approvalId: record.approvalId, execution: record.execution, stage: record.stage };
  if (actual.status === decision.status && actual.by === decision.by && actual.at === decision.at) {
    deps.reporter.info("approval decided (confirmed from the run's history)", {
      ...context,
      decision: decision.status,
      by: decision.by,
      via: decision.via,
    });
    return { kind: 'decided', record, decision };
  }
  await deps.store.settleClaim(record.approvalId, decision, actual);
  deps.reporter.warn('the run had already received an earlier decision; the table now records it', {
    ...context,
    decision: actual.status,
    by: actual.by,
  });
  return { kind: 'already-decided', record: { ...record, status: actual.status, decision: actual } };
}

function refusal(record: ApprovalRecord | undefined, nowSeconds: number): DecisionOutcome {
  if (!record) return { kind: 'not-found' };
  switch (record.status) {
    case 'approved':
    case 'rejected':
      return { kind: 'already-decided', record };
    case 'superseded':
      return { kind: 'superseded', record };
    case 'expired':
      return { kind: 'expired', record };
    case 'pending':
      // Still pending but refused: its deadline has passed.
      return record.deadline <= nowSeconds ? { kind: 'expired', record } : { kind: 'not-found' };
  }
}

/** Decides an approval exactly once. Never throws for a refused or late decision; it says which. */
export async function decideApproval(request: DecisionRequest, deps: DecideDeps): Promise<DecisionOutcome> {
  const now = deps.now();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const decision: Decision = {
    status: request.decision,
    by: request.by,
    ...(request.byName ? { byName: request.byName } : {}),
    at: now.toISOString(),
    ...(request.reason ? { reason: request.reason } : {}),
    via: request.via,
    ...(request.breakGlass && request.decision === 'approved' ? { breakGlass: request.breakGlass } : {}),
  };
  const claim = await deps.store.claimDecision(request.approvalId, decision, nowSeconds);
  if (!claim.claimed) return refusal(claim.record, nowSeconds);
  const { record } = claim;
  try {
    if (decision.status === 'approved') {
      await deps.taskTokens.succeed(record.taskToken, approvalOutput(record.approvalId, decision));
    } else {
      await deps.taskTokens.fail(record.taskToken, ERRORS.rejected, rejectionCause(decision));
    }
  } catch (error) {
    const name = (error as { name?: string } | null)?.name ?? '';
    const gone = GONE.has(name);
    // A timeout may have landed and a closed token may be our own earlier attempt: ask the run.
    const settled = await settle(record, decision, await readRun(record, deps), deps);
    if (settled) return settled;
    if (gone && deps.runEvents) {
      await deps.store.releaseClaim(record.approvalId, decision);
      deps.reporter.warn(
        "Step Functions no longer waits on the approval and the run's history did not say why",
        {
          approvalId: record.approvalId,
          execution: record.execution,
          error: name,
        },
      );
      const { decision: _dropped, ...pending } = record;
      return { kind: 'unconfirmed', record: { ...pending, status: 'pending' } };
    }
    if (gone) {
      await deps.store.closeApproval(record.approvalId, [decision.status], 'expired', decision.at);
      deps.reporter.info('a decision arrived after the run stopped waiting', {
        approvalId: record.approvalId,
        error: name,
      });
      return { kind: 'expired', record: { ...record, status: 'expired', closedAt: decision.at } };
    }
    await deps.store.releaseClaim(record.approvalId, decision);
    deps.reporter.error('could not deliver a decision to Step Functions; the approval is pending again', {
      approvalId: record.approvalId,
      ...errorAttributes(error),
    });
    deps.reporter.count('ApprovalDeliveryFailed');
    const { decision: _dropped, ...pending } = record;
    return { kind: 'unavailable', record: { ...pending, status: 'pending' }, error: error as Error };
  }
  deps.reporter.info('approval decided', {
    approvalId: record.approvalId,
    execution: record.execution,
    stage: record.stage,
    decision: decision.status,
    by: decision.by,
    via: decision.via,
  });
  return { kind: 'decided', record, decision };
}
