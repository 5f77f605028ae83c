/**
 * Answers a run that waits on a task token. In AWS this is SendTaskSuccess / SendTaskFailure; the local
 * engine passes its own implementation, so handlers never know which one they talk to.
 */
import {
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { HistoryEventLike } from '../../domain/execution-timeline.js';
import { executionArn } from './executions.js';

/** A GetExecutionHistory event, with the task-result details the decision path reads. */
export interface RunEvent extends HistoryEventLike {
  readonly taskSucceededEventDetails?: { readonly output?: string | undefined } | undefined;
}

/** A run's newest history events first (GetExecutionHistory with reverseOrder). */
export type RecentRunEvents = (execution: string, signal?: AbortSignal) => Promise<readonly RunEvent[]>;

export interface TaskTokens {
  succeed(token: string, output: unknown): Promise<void>;
  /** `error` is the name the state machine's Catch/Retry matches; `cause` says what to fix. */
  fail(token: string, error: string, cause: string): Promise<void>;
}

/** Step Functions limits: error ≤ 256 characters, cause ≤ 32768. */
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export function stepFunctionsTaskTokens(client: SFNClient): TaskTokens {
  return {
    async succeed(token, output) {
      await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    },
    async fail(token, error, cause) {
      await client.send(
        new SendTaskFailureCommand({ taskToken: token, error: clip(error, 256), cause: clip(cause, 32_768) }),
      );
    },
  };
}

/** How many of a run's newest events the decision path reads: one page, whatever the run's length. */
export const RECENT_RUN_EVENTS = 100;

/**
 * A run's newest history events (GetExecutionHistory, reverse order, one page), for the decision path
 * to see what the run did with an approval when SendTaskSuccess / SendTaskFailure answered ambiguously.
 */
export function stepFunctionsRecentRunEvents(client: SFNClient, stateMachineArn: string): RecentRunEvents {
  return async (execution, signal) => {
    const page = await client.send(
      new GetExecutionHistoryCommand({
        executionArn: executionArn(stateMachineArn, execution),
        reverseOrder: true,
        maxResults: RECENT_RUN_EVENTS,
        includeExecutionData: true,
      }),
      signal ? { abortSignal: signal } : {},
    );
    return (page.events ?? []) as RunEvent[];
  };
}
