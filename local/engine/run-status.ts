/**
 * RunStatusReader over the local engine's own executions: the committer in the sandbox and in
 * `shiplane run` checks runs the way the deployed one checks them with DescribeExecution.
 */
import type { RunStatusReader } from '../../shared/ports/run-status.js';
import type { LocalEngine } from './engine.js';
import { ExecutionDoesNotExistError } from './errors.js';

/** `engine` is read on each question: handlers are built before the engine that runs them. */
export function engineRunStatus(engine: () => LocalEngine): RunStatusReader {
  return {
    async describe(execution) {
      if (execution.startsWith('arn:')) return undefined;
      try {
        const { status, input } = engine().describeExecution(execution);
        return { status, input: input === undefined ? undefined : (JSON.parse(input) as unknown) };
      } catch (error) {
        if (error instanceof ExecutionDoesNotExistError) return undefined;
        throw error;
      }
    },
  };
}
