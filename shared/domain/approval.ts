/**
 * An approval as a person decides it: the facts shown with the request (stored with the approval so
 * every later update can show them again) and the states it can be in. How a chat renders them is
 * the chat adapter's business (shared/adapters/slack/approval-message.ts for Slack).
 */

import {
  type CommitResult,
  commitResultSchema,
  type HealthCheckResult,
  healthCheckResultSchema,
} from '../contracts/tasks.js';

/** Who decided, when and how: the approved or rejected state. */
export type Decision = Extract<ApprovalState, { readonly status: 'approved' | 'rejected' }>;

/** The image as ECR describes it; every part is optional because ECR may not know it yet. */
export interface ImageFacts {
  readonly pushedAt?: string;
  readonly sizeBytes?: number;
  readonly scan?: {
    /** ECR's scan status, e.g. COMPLETE, ACTIVE. */
    readonly status: string;
    /** Finding counts by severity (CRITICAL, HIGH, …). */
    readonly counts: Readonly<Record<string, number>>;
    readonly completedAt?: string;
  };
}

/** Where the release has been before this stage. */
export interface StageHistory {
  readonly stage: string;
  readonly commit?: string;
  readonly commitUrl?: string;
  readonly previousTag?: string | null;
  /** When the stage was last seen Synced and Healthy at the commit. */
  readonly healthyAt?: string;
  readonly checks?: number;
}

/** Everything the approval message says; stored with the approval so every later update can rebuild it. */
export interface ApprovalFacts {
  readonly approvalId: string;
  readonly execution: string;
  readonly stage: string;
  readonly app: string;
  readonly tag: string;
  /** The tag the stage ran when it was last seen healthy; absent when Shiplane has not seen one. */
  readonly previousTag?: string;
  readonly digest: string;
  readonly ecrRepository: string;
  readonly approvers: readonly string[];
  readonly requestedAt: string;
  /** When the run stops waiting: the approval task's timeout. */
  readonly deadline: string;
  readonly history: readonly StageHistory[];
  readonly image?: ImageFacts;
  /**
   * Set when the run is a manual rollback (`shiplane rollback`): the message asks to roll the stage
   * back to `tag` (from `previousTag`), and says why and who asked.
   */
  readonly rollback?: { readonly reason: string; readonly by?: string };
  /** The stage has change-freeze windows: the message offers Break glass (approve during a freeze, with a reason). */
  readonly freezable?: boolean;
}

/** An approval given while its stage was frozen: the freeze it broke (the reason is the decision's). */
export interface BreakGlass {
  /** When the freeze would have ended. */
  readonly until: string;
  /** `production frozen until Mon 06:00 JST: release freeze`. */
  readonly freeze: string;
}

export type ApprovalState =
  | { readonly status: 'pending' }
  | {
      readonly status: 'approved' | 'rejected';
      /** A Slack user id, or the AWS caller ARN for the CLI. */
      readonly by: string;
      readonly byName?: string;
      readonly at: string;
      readonly reason?: string;
      readonly via: 'slack' | 'cli';
      /** Approved during a change freeze, with `reason` (required then). */
      readonly breakGlass?: BreakGlass;
    }
  | { readonly status: 'expired'; readonly at: string }
  /** `by`: the newer tag of the same app that now awaits approval here (another run's request). */
  | { readonly status: 'superseded'; readonly at: string; readonly by?: string };

/**
 * Reads the earlier stages' results out of the run's `$.stages` (as the approval task receives them).
 * Only stages listed in `order` before `stage` count; anything that does not match a contract is skipped.
 */
export function stageHistory(
  stages: Readonly<Record<string, unknown>>,
  order: readonly string[],
  stage: string,
  /** The link of a commit made for stage `stage` (each stage's commit may be in another repository). */
  commitUrl: (sha: string, stage: string) => string | undefined,
): StageHistory[] {
  const before = order.includes(stage) ? order.slice(0, order.indexOf(stage)) : order;
  const history: StageHistory[] = [];
  for (const name of before) {
    const entry = stages[name];
    if (typeof entry !== 'object' || entry === null) continue;
    const { commit: rawCommit, health: rawHealth } = entry as { commit?: unknown; health?: unknown };
    const commit: CommitResult | undefined = commitResultSchema.safeParse(rawCommit).data;
    const health: HealthCheckResult | undefined = healthCheckResultSchema.safeParse(rawHealth).data;
    if (!commit && !health) continue;
    const url = commit ? commitUrl(commit.commit, name) : undefined;
    history.push({
      stage: name,
      ...(commit ? { commit: commit.commit, previousTag: commit.previousTag } : {}),
      ...(url ? { commitUrl: url } : {}),
      ...(health?.status === 'healthy' ? { healthyAt: health.checkedAt, checks: health.attempt } : {}),
    });
  }
  return history;
}

/** The most characters a decision's reason may have: it goes into the run's error Cause and the messages. */
export const REASON_MAX_LENGTH = 500;

/** Why a decision's reason cannot be recorded, with the words to say it in. */
export type ReasonProblem =
  | { readonly kind: 'empty'; readonly message: string }
  | { readonly kind: 'too-long'; readonly max: number; readonly message: string };

/**
 * The one rule for a decision's reason, kept by the Slack dialog, the CLI and the sandbox alike: a
 * rejection says why (spaces alone do not), no reason passes REASON_MAX_LENGTH, and what is recorded
 * is trimmed (`undefined` for an approval given none).
 */
export function checkedDecisionReason(
  decision: 'rejected',
  reason: string | undefined,
): { readonly reason: string } | { readonly problem: ReasonProblem };
export function checkedDecisionReason(
  decision: 'approved' | 'rejected',
  reason: string | undefined,
): { readonly reason: string | undefined } | { readonly problem: ReasonProblem };
export function checkedDecisionReason(
  decision: 'approved' | 'rejected',
  reason: string | undefined,
): { readonly reason: string | undefined } | { readonly problem: ReasonProblem } {
  const text = reason?.trim() || undefined;
  if (decision === 'rejected' && !text)
    return { problem: { kind: 'empty', message: 'say why you reject it' } };
  if (text && text.length > REASON_MAX_LENGTH) {
    const message = `keep it to ${REASON_MAX_LENGTH} characters (it has ${text.length})`;
    return { problem: { kind: 'too-long', max: REASON_MAX_LENGTH, message } };
  }
  return { reason: text };
}

/** The Cause of a rejection, as the run's history and the `rejected` notification show it. */
export function rejectionCause(decision: Decision): string {
  const who = decision.byName ? `${decision.byName} (${decision.by})` : decision.by;
  return `Rejected by ${who} via ${decision.via}${decision.reason ? `: ${decision.reason}` : ''}`;
}

/**
 * The reason is free text and comes last, so the parse stops at the first `via slack|cli`: the bare id
 * is tried first and the name is as short as it can be. Greedy, a reason such as `x (U0EVE) via cli: y`
 * would be read as the rejecter (U0EVE, via the CLI) instead of as the reason.
 */
const REJECTION = /^Rejected by (?:(\S+)|(.+?) \(([^()\s]+)\)) via (slack|cli)(?:: ([\s\S]*))?$/;

/** The decision `rejectionCause` described, read back from a run's error Cause. */
export function decisionFromRejection(cause: string, at: string): Decision | undefined {
  const match = REJECTION.exec(cause);
  const by = match?.[1] ?? match?.[3];
  if (!match || !by) return undefined;
  return {
    status: 'rejected',
    by,
    ...(match[2] ? { byName: match[2] } : {}),
    at,
    ...(match[5] ? { reason: match[5] } : {}),
    via: match[4] as Decision['via'],
  };
}
