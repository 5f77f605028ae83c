/**
 * RunStatusReader over the local engine's own executions: the committer in the sandbox and in
 * `shiplane run` checks runs the way the deployed one checks them with DescribeExecution and
 * GetExecutionHistory. The pending commit is the commit task whose token the engine has parked, with
 * the parameters it was scheduled with (the text of its TaskScheduled event): known before its
 * message is sent, and gone the moment the token is answered, times out or its run stops.
 */
import { isCommitTask, renderedCommit } from '../../shared/domain/pending-commit.js';
import type { RunStatusReader } from '../../shared/ports/run-status.js';
import type { LocalEngine } from './engine.js';
import { ExecutionDoesNotExistError } from './errors.js';

/** `engine` is read on each question: handlers are built before the engine that runs them. */
export function engineRunStatus(engine: () => LocalEngine): RunStatusReader {
  const ifExists = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (error instanceof ExecutionDoesNotExistError) return undefined;
      throw error;
    }
  };
  return {
    async describe(execution) {
      if (execution.startsWith('arn:')) return undefined;
      const described = ifExists(() => engine().describeExecution(execution));
      if (!described) return undefined;
      const { status, input } = described;
      return { status, input: input === undefined ? undefined : (JSON.parse(input) as unknown) };
    },

    async pendingCommit(execution) {
      if (execution.startsWith('arn:')) return undefined;
      const waiting = ifExists(() => engine().waitingTasks(execution)) ?? [];
      // Newest last; the promotion state machine waits on one task at a time.
      const commit = waiting.filter(isCommitTask).at(-1);
      return commit ? renderedCommit(commit.parameters) : undefined;
    },
  };
}
