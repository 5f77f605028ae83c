/**
 * The one decision path, for a Slack click and for the CLI: claim the approval in the table (a
 * conditional update from `pending`, so only the first decision counts), then tell the waiting run
 * through its task token. A claim the run cannot receive is either expired (the run stopped
 * waiting) or released again (Step Functions was unreachable), so the table never says "approved"
 * for a run that was not told.
 */
import type { ApprovalRecord, ApprovalsStore, Decision } from '../adapters/aws/approvals-table.js';
import type { TaskTokens } from '../adapters/aws/task-tokens.js';
import { type ApprovalDecision, ERRORS } from '../contracts/tasks.js';
import { errorAttributes, type Reporter } from '../notifications/reporter.js';

export interface DecisionRequest {
  readonly approvalId: string;
  readonly decision: 'approved' | 'rejected';
  readonly by: string;
  readonly byName?: string;
  readonly reason?: string;
  readonly via: 'slack' | 'cli';
}

export type DecisionOutcome =
  | { readonly kind: 'decided'; readonly record: ApprovalRecord; readonly decision: Decision }
  | { readonly kind: 'already-decided'; readonly record: ApprovalRecord }
  | { readonly kind: 'expired'; readonly record: ApprovalRecord }
  | { readonly kind: 'superseded'; readonly record: ApprovalRecord }
  | { readonly kind: 'not-found' }
  /** Step Functions could not be reached; nothing was decided and the approval is pending again. */
  | { readonly kind: 'unavailable'; readonly record: ApprovalRecord; readonly error: Error };

export interface DecideDeps {
  readonly store: ApprovalsStore;
  readonly taskTokens: TaskTokens;
  readonly now: () => Date;
  readonly reporter: Reporter;
}

/** Step Functions' answers for a token the run no longer waits on. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** The Cause of a rejection, as the run's history and the `rejected` notification show it. */
export function rejectionCause(decision: Decision): string {
  const who = decision.byName ? `${decision.byName} (${decision.by})` : decision.by;
  return `Rejected by ${who} via ${decision.via}${decision.reason ? `: ${decision.reason}` : ''}`;
}

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
  };
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
    if (GONE.has(name)) {
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
