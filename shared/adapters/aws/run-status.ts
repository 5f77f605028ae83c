/**
 * RunStatusReader over Step Functions: DescribeExecution and GetExecutionHistory on the promotion
 * state machine (the committer's role may read that state machine's executions and no others).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { findPendingCommit } from '../../domain/pending-commit.js';
import { ExecutionNotFoundError } from '../../ports/executions.js';
import type { RunStatusReader } from '../../ports/run-status.js';
import { historyNewestFirst, stepFunctionsExecutions } from './executions.js';

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

    async pendingCommit(execution) {
      if (execution.startsWith('arn:')) return undefined;
      try {
        // Newest first: a run that waits for a commit has its TaskScheduled in the first page.
        return await findPendingCommit(historyNewestFirst(client, stateMachineArn, execution));
      } catch (error) {
        if (error instanceof ExecutionNotFoundError) return undefined;
        throw error;
      }
    },
  };
}
