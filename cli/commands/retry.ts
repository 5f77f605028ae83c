/**
 * `shiplane retry <execution>`: a new run of the same release after a failed, rejected or expired
 * one, named `<original>-r2`, `-r3`…, against a deployed stack (DescribeExecution + StartExecution
 * through the AWS SDK and the usual AWS environment) or a running sandbox (`--sandbox [URL]`).
 */
import type { Command } from 'commander';
import { isValidExecutionName } from '../../shared/domain/execution-name.js';
import type { RetryResult, RetryTarget } from '../../shared/steps/recovery/retry-run.js';
import { reportFailure } from '../failures.js';
import { type Io, processIo } from '../io.js';
import {
  addSourceOptions,
  openStateMachine,
  type SourceDeps,
  type SourceOptions,
  sandboxUrl as sandboxUrlOf,
} from './runs.js';

export interface RetryOptions extends SourceOptions {
  readonly json?: boolean;
}

/** The Step Functions side of a retry: DescribeExecution to read the run, StartExecution to start the next. */
async function stepFunctionsTarget(options: RetryOptions, deps: SourceDeps): Promise<RetryTarget> {
  const { sfn, arn } = await openStateMachine(options, deps);
  const { stepFunctionsExecutions } = await import('../../shared/adapters/aws/executions.js');
  const { ExecutionNotFoundError } = await import('../../shared/ports/executions.js');
  const { stepFunctionsStartExecution } = await import('../../shared/adapters/aws/step-functions.js');
  const reader = stepFunctionsExecutions(sfn, arn);
  const start = stepFunctionsStartExecution(sfn, arn);
  return {
    where: `on ${arn}`,
    async find(name) {
      try {
        return await reader.describe(name);
      } catch (error) {
        if (error instanceof ExecutionNotFoundError) return undefined;
        throw error;
      }
    },
    start: (name, input) => start({ name, input }),
  };
}

/** Retries a run; returns the exit code (0 started, 1 refused, unknown or the source failed, 2 bad arguments). */
export async function retryExecution(
  execution: string,
  options: RetryOptions,
  io: Io = processIo,
  deps: SourceDeps = {},
): Promise<number> {
  // An ARN names the run by its last part, as `shiplane show` accepts.
  const name = execution.startsWith('arn:') ? (execution.split(':').at(-1) ?? '') : execution;
  if (!isValidExecutionName(name)) {
    io.err(
      `shiplane retry: "${execution}" is not an execution name (1-80 letters, digits, ".", "_" or "-"); see \`shiplane runs\``,
    );
    return 2;
  }
  let result: RetryResult;
  let sandboxUrl: string | undefined;
  try {
    if (options.sandbox) {
      sandboxUrl = await sandboxUrlOf(options.sandbox, deps);
      const { sandboxRetry } = await import('../../local/sandbox/api-client.js');
      result = await sandboxRetry(sandboxUrl, name);
    } else {
      const { retryRun } = await import('../../shared/steps/recovery/retry-run.js');
      result = await retryRun(name, await stepFunctionsTarget(options, deps));
    }
  } catch (error) {
    return reportFailure('retry', error, io.err, { region: options.region, env: deps.env });
  }
  if (options.json) {
    io.out(JSON.stringify(result));
    return result.result === 'started' ? 0 : 1;
  }
  if (result.result !== 'started') {
    io.err(`shiplane retry: ${result.message}`);
    return 1;
  }
  io.out(`started ${result.execution}, a retry of ${result.retryOf} (attempt ${result.attempt})`);
  io.out(`follow it: shiplane show ${result.execution}${sandboxUrl ? ` --sandbox ${sandboxUrl}` : ''}`);
  return 0;
}

/** Adds `retry` to the program. */
export function registerRetry(program: Command, io: Io = processIo, deps: SourceDeps = {}): void {
  addSourceOptions(
    program
      .command('retry')
      .description('start a failed, rejected or expired run again, as <execution>-r2, -r3, …')
      .argument('<execution>', 'execution name (or ARN) of the run to retry')
      .option('--json', 'print JSON'),
  ).action(async (execution: string, options: RetryOptions) => {
    process.exitCode = await retryExecution(execution, options, io, deps);
  });
}
