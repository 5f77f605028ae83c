/**
 * Task tokens in AWS: SendTaskSuccess / SendTaskFailure, and a run's newest history events through
 * GetExecutionHistory (the port is shared/ports/task-tokens.ts).
 */
import {
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { RecentRunEvents, RunEvent, TaskTokens } from '../../ports/task-tokens.js';
import { executionArn } from './executions.js';

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
