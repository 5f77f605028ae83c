/**
 * Which commit a run waits for, read from what Step Functions scheduled. Only the
 * `sqs:sendMessage.waitForTaskToken` states send to the commit queue; while one of them waits, its
 * TaskScheduled event holds (in `parameters`) the MessageBody the state machine rendered, with the
 * resolved task token. The committer writes an image change only when the message it received is
 * that body (shared/steps/commit/run-check.ts), so a message the run did not send is never written.
 *
 * Everything here is pure: the AWS adapter feeds it GetExecutionHistory pages, newest first; the
 * local engine the parameters of the task it really scheduled.
 */
import { type CommitRequest, commitRequestSchema } from '../contracts/tasks.js';

/** What a run's pending commit task rendered, or why that cannot be read (then nothing is written). */
export type PendingCommit =
  | { readonly kind: 'rendered'; readonly request: CommitRequest }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** How Step Functions names the commit states' integration in history events. */
export const COMMIT_TASK_RESOURCE = {
  resourceType: 'sqs',
  resource: 'sendMessage.waitForTaskToken',
} as const;

interface TaskDetails {
  readonly resourceType?: string | undefined;
  readonly resource?: string | undefined;
}

/** The fields of a GetExecutionHistory event the search reads (the SDK's HistoryEvent fits). */
export interface TaskHistoryEvent {
  readonly type?: string | undefined;
  readonly taskScheduledEventDetails?:
    | (TaskDetails & { readonly parameters?: string | undefined })
    | undefined;
  readonly taskSucceededEventDetails?: TaskDetails | undefined;
  readonly taskFailedEventDetails?: TaskDetails | undefined;
  readonly taskTimedOutEventDetails?: TaskDetails | undefined;
  readonly taskStartFailedEventDetails?: TaskDetails | undefined;
  readonly taskSubmitFailedEventDetails?: TaskDetails | undefined;
}

/** The events that end a task, with the details that name its resource. */
const TASK_ENDS = {
  TaskSucceeded: 'taskSucceededEventDetails',
  TaskFailed: 'taskFailedEventDetails',
  TaskTimedOut: 'taskTimedOutEventDetails',
  TaskStartFailed: 'taskStartFailedEventDetails',
  TaskSubmitFailed: 'taskSubmitFailedEventDetails',
} as const satisfies Record<string, keyof TaskHistoryEvent>;

/** Whether a task's resource is the commit queue integration (`sqs` / `sendMessage.waitForTaskToken`). */
export function isCommitTask(details: TaskDetails | undefined): boolean {
  return (
    details?.resourceType === COMMIT_TASK_RESOURCE.resourceType &&
    details.resource === COMMIT_TASK_RESOURCE.resource
  );
}

/**
 * The run's pending commit, from its history read newest first: the first commit-task event decides.
 * A TaskScheduled reached before any end of a commit task is the task the run waits on now; an end
 * (TaskSucceeded, TaskFailed, TaskTimedOut, …) reached first means the newest commit task is over and
 * the run waits for no commit. Stops reading at that event, so pages past it are never fetched.
 */
export async function findPendingCommit(
  newestFirst: AsyncIterable<TaskHistoryEvent> | Iterable<TaskHistoryEvent>,
): Promise<PendingCommit | undefined> {
  for await (const event of newestFirst) {
    if (event.type === 'TaskScheduled') {
      const details = event.taskScheduledEventDetails;
      if (isCommitTask(details)) return renderedCommit(details?.parameters);
      continue;
    }
    const ended = TASK_ENDS[event.type as keyof typeof TASK_ENDS];
    if (ended && isCommitTask(event[ended])) return undefined;
  }
  return undefined;
}

/**
 * The commit request a commit task was scheduled with: its parameters' MessageBody (an object as the
 * state machine renders it, or JSON text). Absent or cut-short parameters — history read without
 * execution data, a body over the size limit — are `unreadable`, never a guess.
 */
export function renderedCommit(parameters: string | undefined): PendingCommit {
  if (parameters === undefined || parameters === '') {
    return unreadable('its TaskScheduled event carries no parameters (history read without execution data?)');
  }
  let scheduled: unknown;
  try {
    scheduled = JSON.parse(parameters);
  } catch {
    return unreadable('the parameters of its TaskScheduled event are not JSON (cut short?)');
  }
  let body = (scheduled as { MessageBody?: unknown } | null)?.MessageBody;
  if (body === undefined || body === null) {
    return unreadable('the parameters of its TaskScheduled event have no MessageBody');
  }
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return unreadable('the MessageBody of its TaskScheduled event is not JSON (cut short?)');
    }
  }
  const parsed = commitRequestSchema.safeParse(body);
  if (!parsed.success) {
    // Paths and messages only: the rendered values include the task token.
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
    return unreadable(
      `the MessageBody it was scheduled with is not a commit request (${problems.join('; ')})`,
    );
  }
  return { kind: 'rendered', request: parsed.data };
}

const unreadable = (reason: string): PendingCommit => ({ kind: 'unreadable', reason });
