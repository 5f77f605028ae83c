/**
 * Which approval a run is waiting on, for a decision made outside Slack (`shiplane approve` against
 * a deployed stack or a sandbox): among the stages given, the one pending approval of the run; when
 * none is pending, the latest record, which says why (already decided, expired).
 */
import { TerminalError } from '../../errors.js';
import type { ApprovalRecord, ApprovalsStore } from '../../ports/approvals-store.js';

export class ApprovalNotFoundError extends TerminalError {
  override name = 'ApprovalNotFoundError';
}

/** Several stages of the run wait for approval: the caller must say which. */
export class AmbiguousApprovalError extends TerminalError {
  override name = 'AmbiguousApprovalError';
}

/** The run's pending approval: exactly one among `stages`. */
export async function pendingApproval(
  store: ApprovalsStore,
  execution: string,
  stages: readonly string[],
): Promise<ApprovalRecord> {
  const found: ApprovalRecord[] = [];
  for (const stage of stages) {
    const id = await store.approvalIdFor(execution, stage);
    const record = id ? await store.getApproval(id) : undefined;
    if (record) found.push(record);
  }
  const pending = found.filter((record) => record.status === 'pending');
  if (pending.length === 1 && pending[0]) return pending[0];
  if (pending.length > 1) {
    throw new AmbiguousApprovalError(
      `${execution} waits for approval in several stages (${pending.map((r) => r.stage).join(', ')}); pass --stage`,
    );
  }
  const latest = found.at(-1);
  if (latest) return latest;
  throw new ApprovalNotFoundError(
    `no approval for ${execution}${stages.length === 1 ? ` in ${stages[0]}` : ''}; check the execution name (shiplane runs)`,
  );
}
