/**
 * Builds an execution's history in the shape of Step Functions' GetExecutionHistory from two sources:
 * the interpreter's event log (state entered / exited / failed / retried, execution events), read
 * asynchronously, and the engine's task wrappers (TaskScheduled, TaskStarted, TaskSubmitted,
 * TaskSucceeded, TaskFailed), recorded synchronously as the task runs. Task events are kept per
 * attempt and released when the interpreter's event for that attempt is read, so the merged history is
 * in the order Step Functions would write it.
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { EventLog } from './interpreter-events.js';

/** A history event before it has its place (id) in the history. */
export type PendingEvent = Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'> & {
  readonly type: HistoryEventType;
};

/** A history event as the engine reports it: always with an id, a timestamp and a type. */
export type LocalHistoryEvent = HistoryEvent & { id: number; timestamp: Date; type: HistoryEventType };

/** The events of one run of one Task state (a retry is a new attempt). */
export class TaskAttempt {
  private readonly buffered: Array<PendingEvent & { at: Date }> = [];
  private phase: 'pending' | 'live' | 'done' = 'pending';
  private ended = false;

  constructor(
    readonly state: string,
    readonly resourceType: string,
    readonly resource: string,
    private readonly history: ExecutionHistory,
  ) {}

  /** Records a task event; it reaches the history once the interpreter has entered the attempt. */
  add(event: PendingEvent): void {
    if (this.phase === 'done') return;
    if (/^Task(Succeeded|Failed|TimedOut)$/.test(event.type)) this.ended = true;
    if (this.phase === 'live') this.history.append(event);
    else this.buffered.push({ ...event, at: new Date() });
  }

  /** True once TaskSucceeded / TaskFailed / TaskTimedOut was recorded. */
  get hasEnded(): boolean {
    return this.ended;
  }

  activate(): void {
    if (this.phase !== 'pending') return;
    this.phase = 'live';
    for (const { at, ...event } of this.buffered.splice(0)) this.history.append(event, at);
  }

  finish(): void {
    this.activate();
    this.phase = 'done';
  }

  get isPending(): boolean {
    return this.phase === 'pending';
  }

  get isLive(): boolean {
    return this.phase === 'live';
  }
}

const json = (value: unknown) => JSON.stringify(value ?? null);
const untruncated = { truncated: false };

/** One execution's history. */
export class ExecutionHistory {
  readonly events: LocalHistoryEvent[] = [];
  private readonly attempts = new Map<string, TaskAttempt[]>();
  private readonly taskStates = new Set<string>();

  constructor(
    private readonly roleArn: string,
    private readonly onEvent: (event: LocalHistoryEvent) => void,
    /** Step Functions' error/cause for an aborted execution, set by StopExecution. */
    private readonly stopDetails: () => { error?: string; cause?: string },
  ) {}

  /** Called by a task wrapper, synchronously, when the interpreter starts the task. */
  beginAttempt(state: string, resourceType: string, resource: string): TaskAttempt {
    const attempt = new TaskAttempt(state, resourceType, resource, this);
    this.taskStates.add(state);
    const queue = this.attempts.get(state) ?? [];
    queue.push(attempt);
    this.attempts.set(state, queue);
    return attempt;
  }

  append(event: PendingEvent, timestamp: Date = new Date()): LocalHistoryEvent {
    const id = this.events.length + 1;
    const full: LocalHistoryEvent = {
      ...event,
      timestamp,
      id,
      // Step Functions gives the first event previousEventId 0.
      previousEventId: id - 1,
    } as LocalHistoryEvent;
    this.events.push(full);
    this.onEvent(full);
    return full;
  }

  /** Folds one interpreter event into the history. */
  consume(event: EventLog): void {
    const at = new Date(event.timestamp);
    switch (event.type) {
      case 'ExecutionStarted':
        this.append(
          {
            type: 'ExecutionStarted',
            executionStartedEventDetails: {
              input: json(event.input),
              inputDetails: untruncated,
              roleArn: this.roleArn,
            },
          },
          at,
        );
        return;
      case 'ExecutionSucceeded':
        this.append(
          {
            type: 'ExecutionSucceeded',
            executionSucceededEventDetails: { output: json(event.output), outputDetails: untruncated },
          },
          at,
        );
        return;
      case 'ExecutionFailed':
        this.append(
          {
            type: 'ExecutionFailed',
            executionFailedEventDetails: { error: event.Error, cause: causeText(event.Cause) },
          },
          at,
        );
        return;
      case 'ExecutionAborted':
        this.append({ type: 'ExecutionAborted', executionAbortedEventDetails: this.stopDetails() }, at);
        return;
      case 'ExecutionTimeout':
        this.append({ type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} }, at);
        return;
      case 'StateEntered':
        this.append(
          {
            type: `${event.state.type}StateEntered` as HistoryEventType,
            stateEnteredEventDetails: {
              name: event.state.name,
              input: json(event.state.input),
              inputDetails: untruncated,
            },
          },
          at,
        );
        if (event.state.type === 'Task') this.front(event.state.name, 'pending')?.activate();
        return;
      case 'StateRetried':
        if (event.state.type === 'Task') this.front(event.state.name, 'pending')?.activate();
        return;
      case 'StateFailed': {
        if (event.state.type !== 'Task') return;
        const attempt = this.front(event.state.name, 'live');
        if (!attempt) return;
        // The interpreter's own timer fails the task; the wrapper never saw it end.
        if (!attempt.hasEnded && event.Error === 'States.Timeout') {
          attempt.add({
            type: 'TaskTimedOut',
            taskTimedOutEventDetails: {
              resourceType: attempt.resourceType,
              resource: attempt.resource,
              error: 'States.Timeout',
              cause: causeText(event.Cause),
            },
          });
        }
        this.retire(event.state.name);
        return;
      }
      case 'StateExited':
        if (event.state.type === 'Task' && this.front(event.state.name, 'live'))
          this.retire(event.state.name);
        this.append(
          {
            type: `${event.state.type}StateExited` as HistoryEventType,
            stateExitedEventDetails: {
              name: event.state.name,
              output: json(event.state.output),
              outputDetails: untruncated,
            },
          },
          at,
        );
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails` as
          | 'mapIterationStartedEventDetails'
          | 'mapIterationSucceededEventDetails'
          | 'mapIterationFailedEventDetails';
        this.append({ type: event.type, [key]: { name: event.parentState.name, index: event.index } }, at);
        return;
      }
      default:
        // Parallel branch events and StateCaught have no Step Functions history event of their own.
        return;
    }
  }

  /** The oldest attempt of `state`, if it is in `phase`. */
  private front(state: string, phase: 'pending' | 'live'): TaskAttempt | undefined {
    const attempt = this.attempts.get(state)?.[0];
    if (!attempt) return undefined;
    return (phase === 'pending' ? attempt.isPending : attempt.isLive) ? attempt : undefined;
  }

  private retire(state: string): void {
    this.attempts.get(state)?.shift()?.finish();
  }
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause ?? '');
}
