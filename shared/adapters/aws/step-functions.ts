/** Starts promotion executions in AWS: StartExecution on the promotion state machine. */
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { StartExecution } from '../../ports/executions.js';

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
