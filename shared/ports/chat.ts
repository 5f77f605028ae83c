/**
 * The chat where people follow a release and decide its approvals. The steps say what to show (an
 * approval's facts and state, the release thread's state, an event, a notice for one person); the
 * adapter decides how it looks. Slack implements it with Block Kit (shared/adapters/slack/chat.ts,
 * interactions.ts); another chat (Teams, say) implements the same interfaces.
 */
import type { Notification } from '../contracts/tasks.js';
import type { ApprovalFacts, ApprovalState, Decision } from '../domain/approval.js';
import type { CommitLink, DecisionView, ThreadState } from '../domain/release-thread.js';
import type { ApprovalStatus } from './approvals-store.js';

/** Where a posted message is, to update it or reply under it later. */
export interface PostedMessage {
  readonly channel: string;
  readonly ts: string;
}

/** A release thread as it is drawn: its state, the stages in order, links to GitOps commits. */
export interface ThreadView {
  readonly state: ThreadState;
  readonly stageOrder: readonly string[];
  readonly commitUrl: CommitLink;
}

/** What one person is told, only them, after a click that did not (or no longer could) decide. */
export type ChatNotice =
  | { readonly kind: 'already-decided'; readonly status?: ApprovalStatus; readonly decision?: Decision }
  | { readonly kind: 'expired'; readonly closedAt?: string }
  | { readonly kind: 'superseded' }
  /** Step Functions could not be reached to record the decision. */
  | { readonly kind: 'unavailable' }
  /** The run no longer waits, and whether it got this decision could not be confirmed in time. */
  | { readonly kind: 'unconfirmed' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-an-approver'; readonly stage: string }
  | { readonly kind: 'approvers-unavailable'; readonly stage: string }
  /** The decision is recorded, but the approval message could not be updated to show it. */
  | { readonly kind: 'recorded'; readonly status: ApprovalStatus }
  | { readonly kind: 'click-failed' }
  /** The reason dialog for a rejection could not be opened (the click came too late, the chat failed). */
  | { readonly kind: 'reason-dialog-failed' }
  /** Approve during a change freeze: refused; only Break glass, with a reason, approves now. */
  | { readonly kind: 'frozen'; readonly notice: string }
  /** Break glass on a stage that is not frozen: nothing to break, Approve decides. */
  | { readonly kind: 'not-frozen'; readonly stage: string };

/** Where the dialog asking for a rejection's reason points: which approval, and where it was clicked. */
export interface ReasonDialogTarget {
  readonly approvalId: string;
  /** What the reason is for: a rejection (absent), or approving during a change freeze. */
  readonly purpose?: 'break-glass';
  readonly channel?: string;
  readonly threadTs?: string;
  readonly messageTs?: string;
}

/** The most characters a rejection's reason may have (the rule lives with the approval, in the domain). */
export { REASON_MAX_LENGTH } from '../domain/approval.js';

export interface Chat {
  /** Posts an approval request (in the release thread when `threadTs` is given). */
  postApproval(input: {
    readonly channel: string;
    readonly threadTs?: string;
    readonly facts: ApprovalFacts;
    readonly state: ApprovalState;
  }): Promise<PostedMessage>;
  /** Redraws an approval message for its new state (decided, expired, superseded). */
  updateApproval(input: {
    readonly channel: string;
    readonly ts: string;
    readonly facts: ApprovalFacts;
    readonly state: ApprovalState;
  }): Promise<void>;
  /** Posts a release thread's parent message. */
  postThread(input: { readonly channel: string; readonly view: ThreadView }): Promise<PostedMessage>;
  /** Redraws a release thread's parent message in place. */
  updateThread(input: {
    readonly channel: string;
    readonly ts: string;
    readonly view: ThreadView;
  }): Promise<void>;
  /** Tells one person something in the channel (and thread) given, where only they see it. */
  tell(input: {
    readonly channel: string;
    readonly user: string;
    readonly threadTs?: string;
    readonly notice: ChatNotice;
  }): Promise<void>;
  /** The members of an approver group. */
  groupMembers(groupId: string): Promise<string[]>;
  /**
   * Opens a dialog, for the person whose click gave `trigger`, that asks why they reject the
   * approval; their answer comes back to the interaction endpoint as a `reason` reading. The target
   * is only a pointer: the endpoint re-reads and re-checks the approval when the answer arrives.
   */
  askReason(input: {
    readonly trigger: string;
    readonly target: ReasonDialogTarget;
    readonly facts: ApprovalFacts;
    /** For a break glass: the freeze it breaks (`production frozen until …`). */
    readonly freeze?: string;
  }): Promise<void>;
  /**
   * The same chat for one piece of work (a notification, a click): after one failure that says the
   * chat service is down, every further call fails at once instead of waiting out its own timeouts
   * and retries. Create one per invocation.
   */
  session(): Chat;
}

/**
 * A chat that also replies in the release thread about each event: what notify needs. Kept apart
 * so a handler that never replies does not carry the replies' rendering in its bundle.
 */
export interface NotifyChat extends Chat {
  /**
   * Replies in a release thread about an event, drawn from the thread as it was before the event;
   * false when the event has nothing to add to the parent message (a run starting).
   */
  replyInThread(input: {
    readonly channel: string;
    readonly threadTs: string;
    readonly view: ThreadView;
    readonly notification: Notification;
    readonly decision?: DecisionView;
  }): Promise<boolean>;
  session(): NotifyChat;
}

/** The HTTP request a chat's interaction endpoint receives (API Gateway HTTP API, payload 2.0). */
export interface InteractionRequest {
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
}

/** A person's click on Approve, Reject or Break glass (approve during a freeze), as the chat reports it. */
export interface ApprovalClick {
  readonly approvalId: string;
  readonly decision: 'approved' | 'rejected' | 'break-glass';
  readonly user: { readonly id: string; readonly name?: string };
  /** Where the click happened: for notices, and the message to redraw when the record has none. */
  readonly channel?: string;
  readonly threadTs?: string;
  readonly messageTs?: string;
  /** The chat's short-lived handle for opening a dialog in answer to this click (Slack's `trigger_id`). */
  readonly trigger?: string;
}

/** A person's answer to the reason dialog: reject `target.approvalId`, because `reason`. */
export interface ReasonSubmission {
  readonly target: ReasonDialogTarget;
  readonly user: { readonly id: string; readonly name?: string };
  /** As typed (untrimmed; possibly empty): the endpoint checks it. */
  readonly reason: string;
}

/** Why a reason submission was not taken; the dialog stays open with what was typed. */
export type ReasonRefusal =
  | { readonly kind: 'empty'; readonly purpose?: 'break-glass' }
  | { readonly kind: 'too-long'; readonly max: number }
  /** Nothing was decided and trying again may work (AWS or the chat did not answer). */
  | { readonly kind: 'retry'; readonly notice: ChatNotice };

/** What an interaction request turned out to be. */
export type InteractionReading =
  | { readonly kind: 'click'; readonly click: ApprovalClick }
  | { readonly kind: 'reason'; readonly submission: ReasonSubmission }
  /** Authentic, but nothing to decide (another kind of interaction, another button). */
  | { readonly kind: 'ignored'; readonly type?: string }
  /** Not from the chat: nothing else happens. `timestamp` only when it is well-formed. */
  | {
      readonly kind: 'unauthenticated';
      readonly reason: string;
      readonly timestamp: string | null;
      readonly bodyBytes: number;
    }
  /** Authentic, but not a payload the chat sends for a click. */
  | { readonly kind: 'malformed'; readonly error: string };

/** Reads the chat's interaction requests: authenticates them, then says what was clicked. */
export interface ChatInteractions {
  read(request: InteractionRequest, now: Date): Promise<InteractionReading>;
  /** The JSON answer to a reason submission that keeps the dialog open and says why at its field. */
  reasonRefused(refusal: ReasonRefusal): Record<string, unknown>;
}
