/** Starts promotion executions in AWS: StartExecution on the promotion state machine. */
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { StartExecution, StartExecutionResult } from '../../ports/executions.js';

/**
 * How much earlier than the request an answered execution must have started to be an older one:
 * covers clock skew between the caller and Step Functions, and is far shorter than a run.
 */
export const ALREADY_RUNNING_AFTER_MS = 30_000;

/**
 * StartExecution is idempotent for a name and input that are still running: it answers with the
 * running execution instead of ExecutionAlreadyExists. An answer whose execution started well before
 * the request is that older run — the same release seen again (a redelivered event, the sweep
 * finding a push the intake started), so it is reported as such rather than as a new start.
 */
export function startAnswer(
  executionArn: string,
  startDate: Date | undefined,
  requestedAt: number,
): StartExecutionResult {
  if (startDate && startDate.getTime() < requestedAt - ALREADY_RUNNING_AFTER_MS) {
    return { status: 'already-exists' };
  }
  return { status: 'started', executionArn };
}

/** StartExecution against a real state machine. Any error but ExecutionAlreadyExists is thrown, to be retried. */
export function stepFunctionsStartExecution(
  client: SFNClient,
  stateMachineArn: string,
  now: () => number = Date.now,
): StartExecution {
  return async ({ name, input }) => {
    const requestedAt = now();
    try {
      const output = await client.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      if (!output.executionArn) throw new Error(`StartExecution of ${name} returned no executionArn`);
      return startAnswer(output.executionArn, output.startDate, requestedAt);
    } catch (error) {
      // Compare by name: a second copy of the SDK in a bundle would break instanceof.
      if ((error as Error).name === 'ExecutionAlreadyExists') return { status: 'already-exists' };
      throw error;
    }
  };
}
