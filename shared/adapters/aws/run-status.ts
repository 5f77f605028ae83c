/**
 * RunStatusReader over Step Functions: DescribeExecution on the promotion state machine (the
 * committer's role may describe that state machine's executions and no others).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { RunStatusReader } from '../../ports/run-status.js';
import { ExecutionNotFoundError, stepFunctionsExecutions } from './executions.js';

/** Reads runs of `stateMachineArn` by execution name. */
export function stepFunctionsRunStatus(client: SFNClient, stateMachineArn: string): RunStatusReader {
  const executions = stepFunctionsExecutions(client, stateMachineArn);
  return {
    async describe(execution) {
      // A name, never an ARN: an ARN would let a message point the check at another state machine.
      if (execution.startsWith('arn:')) return undefined;
      try {
        const { status, input } = await executions.describe(execution);
        return { status, input };
      } catch (error) {
        if (error instanceof ExecutionNotFoundError) return undefined;
        throw error;
      }
    },
  };
}
