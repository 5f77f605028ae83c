/**
 * The approvals store: approval requests and their exactly-once decisions, the release threads and
 * the per-stage pointers the approval and notify steps keep. DynamoDB implements it in AWS
 * (shared/adapters/aws/approvals-table.ts), whose conditional writes make a decision exactly-once.
 */

import type { FreezeWindowConfig } from '../config/freeze.js';
import type { ApprovalFacts, Decision } from '../domain/approval.js';
import type { ThreadState } from '../domain/release-thread.js';
import type { DeployedTag, PinnedTag, StageTags } from '../domain/stage-tags.js';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'superseded';

export interface MessageRef {
  readonly channel: string;
  readonly ts: string;
}

export interface ApprovalRecord {
  readonly approvalId: string;
  readonly execution: string;
  readonly stage: string;
  readonly taskToken: string;
  readonly status: ApprovalStatus;
  /** Who may decide: Slack user ids and user-group ids, as the run asked. */
  readonly approvers: readonly string[];
  readonly facts: ApprovalFacts;
  readonly createdAt: string;
  /** Epoch seconds when the run stops waiting; a decision after it is refused. */
  readonly deadline: number;
  /** Epoch seconds when DynamoDB may delete the item. */
  readonly expiresAt: number;
  readonly message?: MessageRef;
  readonly decision?: Decision;
  /** When it expired or was superseded. */
  readonly closedAt?: string;
  /**
   * The older release's approval this request is superseding, noted before that run is told, so a
   * retried request finishes the job if the first attempt could not.
   */
  readonly supersedes?: string;
  /**
   * The stage's change-freeze windows when the run asked (none: no freeze), so a decision made without
   * the config (`shiplane approve`) still keeps the freeze rule (steps/approval/freeze-rule.ts).
   */
  readonly freeze?: readonly FreezeWindowConfig[];
}

export interface ThreadRecord {
  readonly execution: string;
  readonly channel: string;
  readonly ts: string;
  readonly state: ThreadState;
}

/** The latest approval requested for an app's stage, across runs (`pending#<app>#<stage>`). */
export interface PendingPointer {
  readonly approvalId: string;
  readonly tag: string;
  readonly execution: string;
}

export type ClaimResult =
  | { readonly claimed: true; readonly record: ApprovalRecord }
  | { readonly claimed: false; readonly record: ApprovalRecord | undefined };

/** What the approval and notify steps need from the table. */
export interface ApprovalsStore {
  /** Stores a new approval; `exists` when one with this id is already there (a retried request). */
  createApproval(record: ApprovalRecord): Promise<'created' | 'exists'>;
  getApproval(approvalId: string): Promise<ApprovalRecord | undefined>;
  setApprovalMessage(approvalId: string, message: MessageRef): Promise<void>;
  /** Notes on an approval which older approval it supersedes (see `ApprovalRecord.supersedes`). */
  noteSupersedes(approvalId: string, olderId: string): Promise<void>;
  /**
   * Records a decision if, and only if, the approval is still pending and its deadline has not
   * passed (`nowSeconds`). Otherwise returns the record as it is, so the caller can say why.
   */
  claimDecision(approvalId: string, decision: Decision, nowSeconds: number): Promise<ClaimResult>;
  /** Undoes a claim that could not be delivered to Step Functions, so someone can try again. */
  releaseClaim(approvalId: string, decision: Decision): Promise<boolean>;
  /**
   * Replaces a claim with the decision the run actually received (an earlier click's that landed
   * although it looked lost); false when the claim is no longer there.
   */
  settleClaim(approvalId: string, claimed: Decision, actual: Decision): Promise<boolean>;
  /** Moves an approval from one of `from` to `to` (expired / superseded); false when it was not in `from`. */
  closeApproval(
    approvalId: string,
    from: readonly ApprovalStatus[],
    to: 'expired' | 'superseded',
    at: string,
  ): Promise<boolean>;
  /** Points a run's stage at an approval; returns the approval id it pointed at before, if any. */
  pointToApproval(
    execution: string,
    stage: string,
    approvalId: string,
    expiresAt: number,
  ): Promise<string | undefined>;
  approvalIdFor(execution: string, stage: string): Promise<string | undefined>;
  /**
   * Points an app's stage at its newest approval request (a plain put, last writer wins); returns
   * the pointer it replaced, if any.
   */
  pointToPendingApproval(
    app: string,
    stage: string,
    pointer: PendingPointer,
    expiresAt: number,
  ): Promise<PendingPointer | undefined>;
  getThread(execution: string): Promise<ThreadRecord | undefined>;
  /** Stores a new thread; returns the stored one when another writer got there first. */
  createThread(thread: ThreadRecord, expiresAt: number): Promise<ThreadRecord>;
  saveThreadState(execution: string, state: ThreadState): Promise<void>;
  /** Records a tag seen healthy: the newest of the stage's history (capped), and what it pins. */
  recordDeployedTag(app: string, stage: string, tag: DeployedTag): Promise<void>;
  /** The tag last seen healthy in the stage. */
  deployedTag(app: string, stage: string): Promise<DeployedTag | undefined>;
  /** Records what a commit put in the stage (healthy or not yet). */
  recordPinnedTag(app: string, stage: string, pinned: PinnedTag): Promise<void>;
  /** The stage's healthy history and pin; undefined when Shiplane has recorded nothing there. */
  stageTags(app: string, stage: string): Promise<StageTags | undefined>;
}
