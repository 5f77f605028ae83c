/**
 * `shiplane rollback <app> --stage S [--to TAG] [--reason R]`: starts a run that puts one stage of
 * an app back on a tag it ran Synced and Healthy before (the newest other than the one it runs now,
 * or `--to TAG`), through the same commit queue, approval and Argo CD wait as a promotion. Against
 * a deployed stack (the approvals table for the stage's record of healthy tags, StartExecution on
 * the promotion state machine, the AWS caller identity recorded as who asked) or a running sandbox
 * (`--sandbox [URL]`).
 *
 * The approvals table is found as `shiplane approve` finds it: `--table`, else
 * `SHIPLANE_APPROVALS_TABLE`, else the one table whose name contains "approvals". The config file
 * says which apps and stages exist and which stages ask for approval.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import { TerminalError } from '../../shared/errors.js';
import type {
  RollbackRequest,
  RollbackResult,
  RollbackScope,
  RollbackTarget,
} from '../../shared/steps/recovery/rollback-run.js';
import { reportFailure } from '../failures.js';
import { type Io, processIo } from '../io.js';
import { approvalsTableName } from './approve.js';
import {
  addSourceOptions,
  openStateMachine,
  type SourceDeps,
  type SourceOptions,
  sandboxUrl as sandboxUrlOf,
} from './runs.js';

export interface RollbackOptions extends SourceOptions {
  readonly stage: string;
  readonly to?: string;
  readonly reason?: string;
  readonly table?: string;
  readonly config?: string;
  readonly json?: boolean;
}

export interface RollbackCliDeps extends SourceDeps {
  /** Clients of your own (tests pass them behind aws-sdk-client-mock). */
  readonly dynamo?: DynamoDBClient;
  readonly sts?: STSClient;
}

/** The apps and stages of the config file (a deployed stack's runs are checked against it). */
async function scopeOf(file: string): Promise<RollbackScope> {
  const { loadConfig } = await import('../../shared/config/load.js');
  let config: Config;
  try {
    config = await loadConfig(file);
  } catch (error) {
    throw new TerminalError(
      `run where the config is readable, or pass --config FILE: ${(error as Error).message}`,
    );
  }
  return {
    apps: Object.keys(config.apps),
    stages: config.stages.map((stage) => ({ name: stage.name, approval: stage.approval !== undefined })),
  };
}

/** The deployed stack: the stage's record from DynamoDB, runs from Step Functions. */
async function awsRollback(
  request: RollbackRequest,
  options: RollbackOptions,
  deps: RollbackCliDeps,
): Promise<RollbackResult> {
  const scope = await scopeOf(options.config ?? DEFAULT_CONFIG_FILE);
  const { invalidRollbackRequest, rollbackRun } = await import('../../shared/steps/recovery/rollback-run.js');
  // An app or stage the config does not have is said before any AWS call.
  const invalid = invalidRollbackRequest(request, scope);
  if (invalid) return invalid;
  const region = options.region ? { region: options.region } : {};
  // Loaded here, not at the top: every command module loads on every run of the CLI.
  const [{ DynamoDBClient }, { STSClient, GetCallerIdentityCommand }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-sts'),
  ]);
  const { dynamoApprovalsStore } = await import('../../shared/adapters/aws/approvals-table.js');
  const { stepFunctionsExecutions } = await import('../../shared/adapters/aws/executions.js');
  const { ExecutionNotFoundError } = await import('../../shared/ports/executions.js');
  const { stepFunctionsStartExecution } = await import('../../shared/adapters/aws/step-functions.js');

  const env = deps.env ?? process.env;
  const dynamo = deps.dynamo ?? new DynamoDBClient(region);
  const sts = deps.sts ?? new STSClient(region);
  const { sfn, arn } = await openStateMachine(options, deps);
  const store = dynamoApprovalsStore(dynamo, await approvalsTableName(options, dynamo, env));
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Arn)
    throw new TerminalError('AWS did not say who you are (GetCallerIdentity returned no Arn)');
  const reader = stepFunctionsExecutions(sfn, arn);
  const start = stepFunctionsStartExecution(sfn, arn);
  const target: RollbackTarget = {
    where: `on ${arn}`,
    stageTags: (app, stage) => store.stageTags(app, stage),
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
  return rollbackRun({ ...request, by: identity.Arn }, scope, target);
}

/** Starts a manual rollback; returns the exit code (0 started, 1 refused or the source failed, 2 bad arguments). */
export async function rollbackStage(
  app: string,
  options: RollbackOptions,
  io: Io = processIo,
  deps: RollbackCliDeps = {},
): Promise<number> {
  const request: RollbackRequest = {
    app,
    stage: options.stage,
    ...(options.to !== undefined ? { to: options.to } : {}),
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
  };
  let result: RollbackResult;
  let sandboxUrl: string | undefined;
  try {
    if (options.sandbox) {
      sandboxUrl = await sandboxUrlOf(options.sandbox, deps);
      const { sandboxRollback } = await import('../../local/sandbox/api-client.js');
      result = await sandboxRollback(sandboxUrl, request);
    } else {
      result = await awsRollback(request, options, deps);
    }
  } catch (error) {
    return reportFailure('rollback', error, io.err, {
      region: options.region,
      table: options.table,
      env: deps.env,
    });
  }
  const code = result.result === 'started' ? 0 : result.result === 'invalid' ? 2 : 1;
  if (options.json) {
    io.out(JSON.stringify(result));
    return code;
  }
  if (result.result !== 'started') {
    io.err(`shiplane rollback: ${result.message}; nothing was started`);
    return code;
  }
  const from = result.from ? `${result.from} → ` : 'to ';
  io.out(`started ${result.execution}: roll back ${result.app} in ${result.stage} ${from}${result.to}`);
  if (result.approval) io.out(`${result.stage} asks for approval in Slack before the rollback is committed`);
  io.out(`follow it: shiplane show ${result.execution}${sandboxUrl ? ` --sandbox ${sandboxUrl}` : ''}`);
  return code;
}

/** Adds `rollback` to the program. */
export function registerRollback(program: Command, io: Io = processIo, deps: RollbackCliDeps = {}): void {
  addSourceOptions(
    program
      .command('rollback')
      .description(
        "put one stage of an app back on a tag it ran healthy before, through the stage's approval and Argo CD wait",
      )
      .argument('<app>', 'the app (a key of apps in the config)')
      .requiredOption('-s, --stage <stage>', 'the stage to roll back; no other stage is touched')
      .option(
        '--to <tag>',
        'a tag the stage ran Synced and Healthy (default: the newest before the current one)',
      )
      .option('-r, --reason <text>', 'why, recorded in the run, the commit and Slack')
      .option(
        '-t, --table <name>',
        'the approvals table (default: $SHIPLANE_APPROVALS_TABLE, or found by name)',
      )
      .option('-c, --config <file>', 'the config file, for the apps and stages', DEFAULT_CONFIG_FILE)
      .option('--json', 'print JSON'),
  ).action(async (app: string, options: RollbackOptions) => {
    process.exitCode = await rollbackStage(app, options, io, deps);
  });
}
