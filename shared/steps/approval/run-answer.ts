/**
 * What a run did with an approval task, read from its most recent history events. The decision path
 * asks when Step Functions' answer to SendTaskSuccess / SendTaskFailure was ambiguous: a timeout, or
 * TaskTimedOut / InvalidToken on a retry because the first attempt had already landed. The run's data
 * keeps `$.stages.<stage>.approval` (what the task returned) and `$.error` (what a Catch kept) in every
 * later state, so the newest event that carries data answers the question; task events in between
 * (TaskSucceeded, TaskFailed, TaskTimedOut) answer it before the next state has started.
 */

import { type ApprovalDecision, approvalDecisionSchema, ERRORS } from '../../contracts/tasks.js';
import { parseJson } from '../../domain/execution-timeline.js';
import type { RunEvent } from '../../ports/task-tokens.js';

export type RunAnswer =
  /** The approval task succeeded with this approval's decision. */
  | { readonly kind: 'approved'; readonly decision: ApprovalDecision }
  /** The approval task failed with Shiplane.Rejected; `cause` says who and why. */
  | { readonly kind: 'rejected'; readonly cause: string; readonly at: string | undefined }
  | { readonly kind: 'expired' }
  | { readonly kind: 'superseded' }
  /** The events do not say (the run still waits, or the events read do not reach the answer). */
  | { readonly kind: 'unknown' };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const TIMEOUTS = new Set(['States.Timeout', 'States.HeartbeatTimeout']);

function fromError(error: string | undefined, cause: string | undefined, at: string | undefined): RunAnswer {
  if (error === ERRORS.rejected) return { kind: 'rejected', cause: cause ?? '', at };
  if (error === ERRORS.superseded) return { kind: 'superseded' };
  if (error && TIMEOUTS.has(error)) return { kind: 'expired' };
  return { kind: 'unknown' };
}

function fromData(
  data: unknown,
  approvalId: string,
  stage: string,
  at: string | undefined,
): RunAnswer | undefined {
  if (!isObject(data)) return undefined;
  const stages = isObject(data.stages) ? data.stages : undefined;
  const slot = stages && isObject(stages[stage]) ? stages[stage] : undefined;
  const approval = approvalDecisionSchema.safeParse(slot?.approval);
  if (approval.success && approval.data.approvalId === approvalId) {
    return { kind: 'approved', decision: approval.data };
  }
  if (isObject(data.error)) {
    const answer = fromError(
      typeof data.error.Error === 'string' ? data.error.Error : undefined,
      typeof data.error.Cause === 'string' ? data.error.Cause : undefined,
      at,
    );
    if (answer.kind !== 'unknown') return answer;
  }
  return { kind: 'unknown' };
}

const timestampOf = (event: RunEvent) =>
  event.timestamp === undefined ? undefined : new Date(event.timestamp).toISOString();

const STOPPED = new Set(['ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/**
 * Reads `events` (newest first) for what happened to the approval `approvalId` of `stage`. The
 * newest event with run data decides when its data has this approval's result or an error a Catch
 * kept. When it has neither, the run was still in the approval task then, so the task events after
 * it (TaskSucceeded, TaskFailed, TaskTimedOut) are that task's and decide; a run that stopped
 * without either stopped waiting, which for this approval is expired.
 */
export function runAnswer(events: readonly RunEvent[], approvalId: string, stage: string): RunAnswer {
  const newer: RunEvent[] = [];
  for (const event of events) {
    const data =
      event.executionSucceededEventDetails?.output ??
      event.stateExitedEventDetails?.output ??
      event.stateEnteredEventDetails?.input;
    if (data === undefined) {
      newer.push(event);
      continue;
    }
    const answer = fromData(parseJson(data), approvalId, stage, timestampOf(event));
    if (answer && answer.kind !== 'unknown') return answer;
    return fromTaskEvents(newer.reverse(), approvalId);
  }
  return { kind: 'unknown' };
}

/** `events` oldest first: the approval task's own events after the run entered it. */
function fromTaskEvents(events: readonly RunEvent[], approvalId: string): RunAnswer {
  for (const event of events) {
    if (event.type === 'TaskSucceeded') {
      const output = approvalDecisionSchema.safeParse(parseJson(event.taskSucceededEventDetails?.output));
      if (output.success && output.data.approvalId === approvalId) {
        return { kind: 'approved', decision: output.data };
      }
    } else if (event.type === 'TaskFailed') {
      const answer = fromError(
        event.taskFailedEventDetails?.error,
        event.taskFailedEventDetails?.cause,
        timestampOf(event),
      );
      if (answer.kind !== 'unknown') return answer;
    } else if (event.type === 'TaskTimedOut') {
      return { kind: 'expired' };
    } else if (event.type && STOPPED.has(event.type)) {
      return { kind: 'expired' };
    }
  }
  return { kind: 'unknown' };
}
