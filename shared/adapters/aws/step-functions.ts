/**
 * Starts promotion executions. In AWS this is StartExecution on the promotion state machine; the local
 * engine passes its own implementation of the same function, so the intake handler never knows which
 * one it talks to.
 */
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { RunInput } from '../../contracts/tasks.js';

export interface StartExecutionRequest {
  /** Deterministic per release (see shared/domain/execution-name.ts). */
  readonly name: string;
  readonly input: RunInput;
}

/**
 * `started`: a new execution runs, or one with the same name and input is still running (StartExecution
 * is idempotent then and answers with that execution). `already-exists`: an execution with that name ran
 * or runs with a different input — for Shiplane, the same release seen again.
 */
export type StartExecutionResult =
  | { readonly status: 'started'; readonly executionArn: string }
  | { readonly status: 'already-exists' };

export type StartExecution = (request: StartExecutionRequest) => Promise<StartExecutionResult>;

/** StartExecution against a real state machine. Any error but ExecutionAlreadyExists is thrown, to be retried. */
export function stepFunctionsStartExecution(client: SFNClient, stateMachineArn: string): StartExecution {
  return async ({ name, input }) => {
    try {
      const output = await client.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      if (!output.executionArn) throw new Error(`StartExecution of ${name} returned no executionArn`);
      return { status: 'started', executionArn: output.executionArn };
    } catch (error) {
      // Compare by name: a second copy of the SDK in a bundle would break instanceof.
      if ((error as Error).name === 'ExecutionAlreadyExists') return { status: 'already-exists' };
      throw error;
    }
  };
}
