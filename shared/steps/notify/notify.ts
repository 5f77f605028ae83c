/**
 * The notify task: moves the release's chat thread (parent updated in place, a reply per event),
 * keeps the approval message in step with decisions and expiry, and sends failures, degraded health
 * and timeouts to the alert topic. A notification never fails a run: Slack, SNS and table errors are
 * logged and counted, and the result says what happened.
 */

import {
  approvalDecisionSchema,
  ERRORS,
  type Notification,
  type NotificationResult,
} from '../../contracts/tasks.js';
import type { ApprovalState } from '../../domain/approval.js';
import {
  ALERT_EVENTS,
  alertFor,
  type DecisionView,
  newThreadState,
  runErrorOf,
  type ThreadState,
} from '../../domain/release-thread.js';
import type { AlertPublisher } from '../../ports/alerts.js';
import type { ApprovalRecord } from '../../ports/approvals-store.js';
import type { NotifyChat } from '../../ports/chat.js';
import type { DeliveryMetricsSink } from '../../ports/delivery-metrics.js';
import type { ImageLabelsSource } from '../../ports/image-labels.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
import type { RunRecordStore } from '../../ports/run-records.js';
import { recordRunEvent } from './run-record.js';
import { recordStageTags } from './stage-tags.js';
import { advanceThread, ensureThread, type ThreadDeps, threadView } from './thread.js';

export interface NotifyDeps extends ThreadDeps {
  /** The chat, replies in the thread included. */
  readonly chat: NotifyChat;
  /** Absent when the stack has no alert topic. */
  readonly publishAlert?: AlertPublisher;
  readonly reporter: Reporter;
  /** The run records table; absent, runs are not recorded. */
  readonly runs?: RunRecordStore;
  /** Where a finished run's delivery metrics go. */
  readonly deliveryMetrics?: DeliveryMetricsSink;
  /** Where the image's OCI labels are read (for lead time); absent, lead time counts from the push. */
  readonly imageLabels?: ImageLabelsSource;
}

/** The approval message's state for a record, once it is no longer pending. */
export function approvalStateOf(record: ApprovalRecord): ApprovalState | undefined {
  if ((record.status === 'approved' || record.status === 'rejected') && record.decision) {
    return { ...record.decision, status: record.status };
  }
  if (record.status === 'expired' || record.status === 'superseded') {
    return { status: record.status, at: record.closedAt ?? new Date(record.deadline * 1000).toISOString() };
  }
  return undefined;
}

const DECISION_EVENTS = new Set(['approved', 'rejected', 'expired']);
const PULL_REQUEST_ERRORS: ReadonlySet<string> = new Set([
  ERRORS.pullRequestClosed,
  ERRORS.pullRequestExpired,
]);

export async function notify(notification: Notification, given: NotifyDeps): Promise<NotificationResult> {
  // Once the chat is found down, the remaining calls of this notification fail at once.
  const deps: NotifyDeps = { ...given, chat: given.chat.session() };
  const { event, execution, release, stage } = notification;
  const context = { event, execution, ...(stage ? { stage } : {}) };
  const now = deps.now();
  let slack: NotificationResult['slack'] = 'posted';
  const slackFailed = (what: string, error: unknown) => {
    slack = 'failed';
    deps.reporter.error(`Slack notification failed: ${what}`, { ...context, ...errorAttributes(error) });
    deps.reporter.count('SlackNotificationFailed');
  };

  // The approval behind a decision event: the table knows who decided and where the message is.
  let approval: ApprovalRecord | undefined;
  // A pull request closed or expired is not the approval's decision (which may well have been yes).
  const pullRequestEnd = PULL_REQUEST_ERRORS.has(runErrorOf(notification.detail)?.error ?? '');
  if (stage && DECISION_EVENTS.has(event) && !pullRequestEnd) {
    try {
      const id = await deps.store.approvalIdFor(execution, stage);
      approval = id ? await deps.store.getApproval(id) : undefined;
      if (approval && event === 'expired' && approval.status === 'pending') {
        const at = now.toISOString();
        if (await deps.store.closeApproval(approval.approvalId, ['pending'], 'expired', at)) {
          approval = { ...approval, status: 'expired', closedAt: at };
        }
      }
    } catch (error) {
      deps.reporter.warn('could not read the approval for a decision event', {
        ...context,
        ...errorAttributes(error),
      });
      deps.reporter.count('ApprovalsTableFailed');
    }
  }
  const fromDetail = approvalDecisionSchema.safeParse(notification.detail).data;
  const decision: DecisionView | undefined =
    approval?.decision ??
    (fromDetail
      ? {
          by: fromDetail.by,
          via: fromDetail.via,
          ...(fromDetail.byName ? { byName: fromDetail.byName } : {}),
          ...(fromDetail.reason ? { reason: fromDetail.reason } : {}),
          ...(fromDetail.breakGlass ? { breakGlass: fromDetail.breakGlass } : {}),
        }
      : undefined);

  // Keep the approval message in step (a CLI decision or expiry reaches Slack this way).
  const approvalState = approval ? approvalStateOf(approval) : undefined;
  if (approval?.message && approvalState) {
    try {
      await deps.chat.updateApproval({ ...approval.message, facts: approval.facts, state: approvalState });
    } catch (error) {
      slackFailed('updating the approval message', error);
    }
  }

  let state: ThreadState = newThreadState(execution, release, now);
  try {
    const thread = await ensureThread(execution, release, deps);
    const advanced = await advanceThread(thread, notification, deps, decision);
    state = advanced.state;
    // The reply is drawn from the thread as it was before this event.
    await deps.chat.replyInThread({
      channel: thread.channel,
      threadTs: thread.ts,
      view: threadView(thread.state, deps),
      notification,
      ...(decision ? { decision } : {}),
    });
  } catch (error) {
    slackFailed('updating the release thread', error);
  }

  try {
    await recordStageTags(notification, deps.store, now);
  } catch (error) {
    deps.reporter.warn('could not record the stage tag', { ...context, ...errorAttributes(error) });
    deps.reporter.count('ApprovalsTableFailed');
  }

  if (deps.runs) {
    try {
      await recordRunEvent(
        notification,
        {
          runs: deps.runs,
          stageOrder: deps.stageOrder,
          ...(deps.deliveryMetrics ? { deliveryMetrics: deps.deliveryMetrics } : {}),
          ...(deps.imageLabels ? { imageLabels: deps.imageLabels } : {}),
          reporter: deps.reporter,
        },
        now,
      );
    } catch (error) {
      deps.reporter.warn('could not record the run event', { ...context, ...errorAttributes(error) });
      deps.reporter.count('RunRecordsTableFailed');
    }
  }

  let alert: NotificationResult['alert'] = 'skipped';
  const message = ALERT_EVENTS.has(event) ? alertFor(state, notification, deps.stageOrder) : undefined;
  if (message && deps.publishAlert) {
    try {
      await deps.publishAlert(message);
      alert = 'published';
    } catch (error) {
      alert = 'failed';
      deps.reporter.error('alert publish failed', { ...context, ...errorAttributes(error) });
      deps.reporter.count('AlertPublishFailed');
    }
  }
  deps.reporter.info('notified', { ...context, slack, alert });
  return { slack, alert };
}
