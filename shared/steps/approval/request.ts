/**
 * The approval task (`lambda:invoke.waitForTaskToken`): keeps the task token in the approvals table
 * under a short approval id and posts the approval message in the release's thread. The id is
 * derived from the token, so a retried invocation finds its own approval instead of posting twice.
 * Slack being down does not fail the run: the approval stays pending (the CLI can decide it) and
 * expires at the stage's timeout as usual.
 *
 * A newer release of the same app reaching this stage's approval closes an older run's pending
 * approval there at once: the table says superseded, the older run's task fails with
 * `Shiplane.Superseded` (its state machine ends SUCCEEDED, outcome superseded) and its Slack message
 * loses its buttons. "Older" is by version (`compareReleaseTags`); for tags without a version order,
 * by when the approval was requested. The same version (e.g. a rebuilt tag) supersedes nothing.
 * A manual rollback's approval (`request.rollback`) asks to roll back, names from → to and the
 * reason, and takes no part in superseding.
 */

import { createHash } from 'node:crypto';
import type { FreezeWindowConfig } from '../../config/freeze.js';
import { type ApprovalRequest, ERRORS } from '../../contracts/tasks.js';
import { type ApprovalFacts, stageHistory } from '../../domain/approval.js';
import { compareReleaseTags } from '../../domain/tag-order.js';
import type { ApprovalRecord, PendingPointer } from '../../ports/approvals-store.js';
import type { ImageFactsSource } from '../../ports/image-facts.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { TaskTokens } from '../../ports/task-tokens.js';
import { advanceThread, ensureThread, type ThreadDeps } from '../notify/thread.js';

/** How long a decided or expired approval stays in the table after its deadline (an audit trail). */
export const APPROVAL_RETENTION_SECONDS = 7 * 86_400;

export interface RequestApprovalDeps extends ThreadDeps {
  readonly images?: ImageFactsSource;
  readonly reporter: Reporter;
  /**
   * Fails an older run's approval task when a newer release supersedes it. Without it (callers that
   * cannot answer task tokens) older runs' approvals are left to be decided or to expire.
   */
  readonly taskTokens?: TaskTokens;
  readonly supersedeRetry?: SupersedeRetry;
  /** A stage's change-freeze windows: with some, the message offers Break glass. */
  readonly freezeWindows?: (stage: string) => readonly FreezeWindowConfig[] | undefined;
}

/** Step Functions' answers for a token the run no longer waits on. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** How hard request-approval tries to tell an older run it was superseded. */
export interface SupersedeRetry {
  /** Calls at most. @default 4 */
  readonly attempts?: number;
  /** Wait before the second call; doubles after each. @default 250 */
  readonly baseDelayMs?: number;
  /**
   * No call starts after this many milliseconds from the first: the function has 30 s and still has
   * to post the new approval. @default 12_000
   */
  readonly budgetMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RequestApprovalResult {
  readonly approvalId: string;
  /** `failed`: Slack did not take the message; the approval is pending and the CLI can decide it. */
  readonly message: 'posted' | 'already-posted' | 'failed';
}

/** The short id a button carries: 96 bits of the token's SHA-256, hex. */
export function approvalIdFor(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('hex').slice(0, 24);
}

async function gatherFacts(
  request: ApprovalRequest,
  approvalId: string,
  deps: RequestApprovalDeps,
): Promise<ApprovalFacts> {
  const { release, stage, rollback } = request;
  const now = deps.now();
  const [image, previous] = await Promise.all([
    deps.images ? deps.images(release).catch(() => undefined) : Promise.resolve(undefined),
    // A manual rollback names what it moves the stage from.
    rollback
      ? Promise.resolve(rollback.from ?? undefined)
      : deps.store.deployedTag(release.app, stage).catch((error: unknown) => {
          deps.reporter.warn('could not read the tag last deployed to the stage', errorAttributes(error));
          return undefined;
        }),
  ]);
  return {
    approvalId,
    execution: request.execution,
    stage,
    app: release.app,
    tag: release.tag,
    ...(previous && previous.tag !== release.tag ? { previousTag: previous.tag } : {}),
    ...(rollback
      ? { rollback: { reason: rollback.reason, ...(rollback.by ? { by: rollback.by } : {}) } }
      : {}),
    digest: release.digest,
    ecrRepository: release.ecrRepository,
    approvers: request.approvers,
    requestedAt: now.toISOString(),
    deadline: new Date(now.getTime() + request.timeoutSeconds * 1000).toISOString(),
    history: stageHistory(request.stages, deps.stageOrder, stage, (sha, name) =>
      deps.commitUrl(sha, { app: request.release.app, stage: name }),
    ),
    ...(image ? { image } : {}),
    // A manual rollback is never held by a freeze (recovery stays possible), so it needs no break glass.
    ...(!rollback && (deps.freezeWindows?.(stage)?.length ?? 0) > 0 ? { freezable: true } : {}),
  };
}

/** Marks an older approval of the same run and stage superseded and says so on its message. */
async function supersede(previousId: string, deps: RequestApprovalDeps): Promise<void> {
  const at = deps.now().toISOString();
  try {
    if (!(await deps.store.closeApproval(previousId, ['pending'], 'superseded', at))) return;
    const previous = await deps.store.getApproval(previousId);
    if (previous?.message) {
      await deps.chat.updateApproval({
        ...previous.message,
        facts: previous.facts,
        state: { status: 'superseded', at },
      });
    }
  } catch (error) {
    deps.reporter.warn('could not mark the earlier approval superseded', {
      approvalId: previousId,
      ...errorAttributes(error),
    });
  }
}

/** True when `previous` is an older release than `current` (by version, else by request time). */
function isOlder(previous: ApprovalRecord, current: ApprovalRecord): boolean {
  const order = compareReleaseTags(previous.facts.tag, current.facts.tag);
  if (order !== undefined) return order < 0;
  return previous.facts.tag !== current.facts.tag && previous.createdAt < current.createdAt;
}

/**
 * Tells an older run it was superseded, retrying with backoff inside the budget. `told` also when
 * Step Functions says the token is over (TaskTimedOut, TaskDoesNotExist, InvalidToken): the run no
 * longer waits, which is all superseding needs.
 */
async function failOlderRun(
  taskTokens: TaskTokens,
  token: string,
  cause: string,
  retry: SupersedeRetry = {},
): Promise<{ told: true } | { told: false; error: unknown; attempts: number }> {
  const attempts = Math.max(1, retry.attempts ?? 4);
  const budget = retry.budgetMs ?? 12_000;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = performance.now();
  let delay = retry.baseDelayMs ?? 250;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      await taskTokens.fail(token, ERRORS.superseded, cause);
      return { told: true };
    } catch (error) {
      if (GONE.has((error as { name?: string } | null)?.name ?? '')) return { told: true };
      lastError = error;
      if (attempt === attempts || performance.now() - started + delay > budget) {
        return { told: false, error, attempts: attempt };
      }
      await sleep(delay);
      delay *= 2;
    }
  }
  return { told: false, error: lastError, attempts };
}

/**
 * Closes another run's approval of an older release at this stage. The order keeps record and run
 * consistent whatever fails: first this approval notes which one it supersedes (so a retried request
 * finishes the job), then the older run is told (SendTaskFailure, retried), and only then does the
 * table say superseded and its Slack message lose its buttons. If the run cannot be told, the older
 * approval stays pending, as its run is: still decidable, and expiring at its timeout as usual.
 * Never throws: the new request goes on whatever happens here.
 */
async function supersedeOlderRelease(
  olderId: string,
  current: ApprovalRecord,
  deps: RequestApprovalDeps,
): Promise<void> {
  const { app, stage, tag } = current.facts;
  const context = { approvalId: olderId, supersededBy: current.approvalId, stage };
  try {
    const previous = await deps.store.getApproval(olderId);
    if (previous?.status !== 'pending' || !isOlder(previous, current)) return;
    const taskTokens = deps.taskTokens;
    if (!taskTokens) return;
    if (current.supersedes !== olderId) await deps.store.noteSupersedes(current.approvalId, olderId);
    const cause = `${app} ${previous.facts.tag} was superseded at ${stage} by ${tag} awaiting approval`;
    const result = await failOlderRun(taskTokens, previous.taskToken, cause, deps.supersedeRetry);
    if (!result.told) {
      deps.reporter.error(
        'could not tell the older release it was superseded; its approval stays pending and a retried request tries again',
        { ...context, attempts: result.attempts, ...errorAttributes(result.error) },
      );
      deps.reporter.count('SupersedeFailed');
      return;
    }
    const at = deps.now().toISOString();
    // Someone decided the older approval meanwhile: the decision path reports what the run did.
    if (!(await deps.store.closeApproval(previous.approvalId, ['pending'], 'superseded', at))) return;
    deps.reporter.info('superseded an older release awaiting approval', {
      ...context,
      execution: previous.execution,
      tag: previous.facts.tag,
    });
    if (previous.message) {
      await deps.chat.updateApproval({
        ...previous.message,
        facts: previous.facts,
        state: { status: 'superseded', at, by: tag },
      });
    }
  } catch (error) {
    deps.reporter.warn('could not supersede the older release awaiting approval', {
      ...context,
      ...errorAttributes(error),
    });
  }
}

/** Points the app's stage at this approval and supersedes the one it pointed at, if that is older. */
async function supersedeOtherRun(
  request: ApprovalRequest,
  record: ApprovalRecord,
  deps: RequestApprovalDeps,
): Promise<void> {
  let previous: PendingPointer | undefined;
  try {
    previous = await deps.store.pointToPendingApproval(
      request.release.app,
      request.stage,
      { approvalId: record.approvalId, tag: record.facts.tag, execution: request.execution },
      record.expiresAt,
    );
  } catch (error) {
    deps.reporter.warn('could not record the pending approval of the stage', errorAttributes(error));
    return;
  }
  // The same run's earlier approval is handled by `supersede` above.
  if (!previous || previous.approvalId === record.approvalId || previous.execution === request.execution)
    return;
  await supersedeOlderRelease(previous.approvalId, record, deps);
}

/**
 * A retried request (same task token) finishes superseding that an earlier attempt noted but could
 * not complete; an older approval that is no longer pending is left alone.
 */
async function finishSuperseding(record: ApprovalRecord, deps: RequestApprovalDeps): Promise<void> {
  if (record.supersedes) await supersedeOlderRelease(record.supersedes, record, deps);
}

export async function requestApproval(
  request: ApprovalRequest,
  given: RequestApprovalDeps,
): Promise<RequestApprovalResult> {
  // Once the chat is found down, the remaining calls of this request fail at once.
  const deps: RequestApprovalDeps = { ...given, chat: given.chat.session() };
  const approvalId = approvalIdFor(request.taskToken);
  let record = await deps.store.getApproval(approvalId);
  if (record?.message) {
    await finishSuperseding(record, deps);
    return { approvalId, message: 'already-posted' };
  }
  if (!record) {
    const facts = await gatherFacts(request, approvalId, deps);
    const deadline = Math.floor(new Date(facts.deadline).getTime() / 1000);
    const created: ApprovalRecord = {
      approvalId,
      execution: request.execution,
      stage: request.stage,
      taskToken: request.taskToken,
      status: 'pending',
      approvers: request.approvers,
      facts,
      createdAt: facts.requestedAt,
      deadline,
      expiresAt: deadline + APPROVAL_RETENTION_SECONDS,
      ...(facts.freezable ? { freeze: deps.freezeWindows?.(request.stage) ?? [] } : {}),
    };
    // A concurrent retry may have created it first; either way one record exists now.
    if ((await deps.store.createApproval(created)) === 'exists') {
      record = await deps.store.getApproval(approvalId);
      if (record?.message) {
        await finishSuperseding(record, deps);
        return { approvalId, message: 'already-posted' };
      }
    }
    record ??= created;
  }
  const previousId = await deps.store.pointToApproval(
    request.execution,
    request.stage,
    approvalId,
    record.expiresAt,
  );
  if (previousId && previousId !== approvalId) await supersede(previousId, deps);
  // A manual rollback stands apart from the release order: it neither supersedes a release awaiting
  // approval nor can a newer release's request supersede it.
  if (!request.rollback) {
    await supersedeOtherRun(request, record, deps);
    await finishSuperseding(record, deps);
  }

  const context = { approvalId, execution: request.execution, stage: request.stage };
  let thread: Awaited<ReturnType<typeof ensureThread>>;
  try {
    thread = await ensureThread(request.execution, request.release, deps);
    const posted = await deps.chat.postApproval({
      channel: thread.channel,
      threadTs: thread.ts,
      facts: record.facts,
      state: { status: 'pending' },
    });
    await deps.store.setApprovalMessage(approvalId, posted);
  } catch (error) {
    deps.reporter.error(
      'could not post the approval message; decide with `shiplane approve` or `shiplane reject`',
      {
        ...context,
        ...errorAttributes(error),
      },
    );
    deps.reporter.count('ApprovalMessageFailed');
    return { approvalId, message: 'failed' };
  }
  try {
    await advanceThread(
      thread,
      {
        event: 'approval-requested',
        execution: request.execution,
        release: request.release,
        stage: request.stage,
      },
      deps,
    );
  } catch (error) {
    deps.reporter.warn('could not update the release thread', { ...context, ...errorAttributes(error) });
    deps.reporter.count('SlackNotificationFailed');
  }
  deps.reporter.info('approval requested', context);
  return { approvalId, message: 'posted' };
}
