/**
 * The approvals table in memory, with the same conditional rules as the DynamoDB store: for the
 * local engine and the sandbox, where nothing may call AWS. A single process is the only writer,
 * so a check-then-set without awaiting in between is atomic, as DynamoDB's condition is.
 */
import type {
  ApprovalRecord,
  ApprovalsStore,
  PendingPointer,
  ThreadRecord,
} from '../adapters/aws/approvals-table.js';
import { EMPTY_STAGE_TAGS, type StageTags, withHealthy, withPinned } from '../domain/stage-tags.js';

/** Deep copy, so callers cannot change stored items by mutating what they got (DynamoDB returns copies). */
const copy = <T>(value: T): T => structuredClone(value);

/** An in-memory approvals store; `items()` exposes what is stored (for the sandbox's console). */
export function memoryApprovalsStore(): ApprovalsStore & {
  approvals(): ApprovalRecord[];
  threads(): ThreadRecord[];
} {
  const approvals = new Map<string, ApprovalRecord>();
  const pointers = new Map<string, string>();
  const threads = new Map<string, ThreadRecord>();
  const deployed = new Map<string, StageTags>();
  const pending = new Map<string, PendingPointer>();
  return {
    approvals: () => [...approvals.values()].map(copy),
    threads: () => [...threads.values()].map(copy),

    async createApproval(record) {
      if (approvals.has(record.approvalId)) return 'exists';
      approvals.set(record.approvalId, copy(record));
      return 'created';
    },
    async getApproval(approvalId) {
      const record = approvals.get(approvalId);
      return record ? copy(record) : undefined;
    },
    async setApprovalMessage(approvalId, message) {
      const record = approvals.get(approvalId);
      if (!record) throw new Error(`approval ${approvalId} does not exist`);
      approvals.set(approvalId, { ...record, message: copy(message) });
    },
    async noteSupersedes(approvalId, olderId) {
      const record = approvals.get(approvalId);
      if (!record) throw new Error(`approval ${approvalId} does not exist`);
      approvals.set(approvalId, { ...record, supersedes: olderId });
    },
    async claimDecision(approvalId, decision, nowSeconds) {
      const record = approvals.get(approvalId);
      if (record?.status !== 'pending' || record.deadline <= nowSeconds) {
        return { claimed: false, record: record ? copy(record) : undefined };
      }
      const claimed: ApprovalRecord = { ...record, status: decision.status, decision: copy(decision) };
      approvals.set(approvalId, claimed);
      return { claimed: true, record: copy(claimed) };
    },
    async releaseClaim(approvalId, decision) {
      const record = approvals.get(approvalId);
      if (
        !record ||
        record.status !== decision.status ||
        record.decision?.at !== decision.at ||
        record.decision.by !== decision.by
      ) {
        return false;
      }
      const { decision: _dropped, ...rest } = record;
      approvals.set(approvalId, { ...rest, status: 'pending' });
      return true;
    },
    async settleClaim(approvalId, claimed, actual) {
      const record = approvals.get(approvalId);
      if (
        !record ||
        record.status !== claimed.status ||
        record.decision?.at !== claimed.at ||
        record.decision.by !== claimed.by
      ) {
        return false;
      }
      approvals.set(approvalId, { ...record, status: actual.status, decision: copy(actual) });
      return true;
    },
    async closeApproval(approvalId, from, to, at) {
      const record = approvals.get(approvalId);
      if (!record || !from.includes(record.status)) return false;
      approvals.set(approvalId, { ...record, status: to, closedAt: at });
      return true;
    },
    async pointToApproval(execution, stage, approvalId) {
      const key = `${execution}#${stage}`;
      const previous = pointers.get(key);
      pointers.set(key, approvalId);
      return previous;
    },
    async approvalIdFor(execution, stage) {
      return pointers.get(`${execution}#${stage}`);
    },
    async pointToPendingApproval(app, stage, pointer) {
      const key = `${app}#${stage}`;
      const previous = pending.get(key);
      pending.set(key, copy(pointer));
      return previous;
    },
    async getThread(execution) {
      const thread = threads.get(execution);
      return thread ? copy(thread) : undefined;
    },
    async createThread(thread) {
      const existing = threads.get(thread.execution);
      if (existing) return copy(existing);
      threads.set(thread.execution, copy(thread));
      return copy(thread);
    },
    async saveThreadState(execution, state) {
      const thread = threads.get(execution);
      if (!thread) throw new Error(`thread of ${execution} does not exist`);
      threads.set(execution, { ...thread, state: copy(state) });
    },
    async recordDeployedTag(app, stage, tag) {
      const key = `${app}#${stage}`;
      deployed.set(key, withHealthy(deployed.get(key) ?? EMPTY_STAGE_TAGS, copy(tag)));
    },
    async deployedTag(app, stage) {
      const newest = deployed.get(`${app}#${stage}`)?.healthy.at(-1);
      return newest ? copy(newest) : undefined;
    },
    async recordPinnedTag(app, stage, pinned) {
      const key = `${app}#${stage}`;
      deployed.set(key, withPinned(deployed.get(key) ?? EMPTY_STAGE_TAGS, copy(pinned)));
    },
    async stageTags(app, stage) {
      const tags = deployed.get(`${app}#${stage}`);
      return tags ? copy(tags) : undefined;
    },
  };
}
