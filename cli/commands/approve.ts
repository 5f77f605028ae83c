/**
 * `shiplane approve <execution> [--stage S] [--reason R]` and `shiplane reject <execution> --reason R`:
 * the fallback when Slack is unavailable. Same exactly-once path as a button click (claim in the
 * approvals table, then SendTaskSuccess / SendTaskFailure), with the AWS caller identity recorded as
 * the approver; IAM decides who may (the table and states:SendTask* permissions). The approval
 * message in Slack follows through the run's own approved / rejected notification.
 *
 * The approvals table: `--table`, else `SHIPLANE_APPROVALS_TABLE`, else the one DynamoDB table in the
 * account and region whose name contains "approvals" (as the stack names it).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../shared/config/load.js';
import { checkedDecisionReason } from '../../shared/domain/approval.js';
import { TerminalError } from '../../shared/errors.js';
import type { DecisionOutcome } from '../../shared/steps/approval/decide.js';
import { reportFailure } from '../failures.js';
import { type Io, processIo } from '../io.js';
import { type StackTable, stackTableName } from '../stack-tables.js';

export { ApprovalNotFoundError } from '../../shared/steps/approval/pending.js';

const APPROVALS_TABLE: StackTable = {
  needle: 'approvals',
  envName: 'SHIPLANE_APPROVALS_TABLE',
  stackOutput: 'ApprovalsTableName',
};

export interface DecideOptions {
  /** A sandbox URL, or `true` for the sandbox started in this folder. */
  readonly sandbox?: string | boolean;
  readonly stage?: string;
  readonly reason?: string;
  /** Approve during a change freeze (`--break-glass`, with a reason). */
  readonly breakGlass?: boolean;
  readonly table?: string;
  readonly region?: string;
  readonly config?: string;
}

export interface DecideCliDeps {
  /** Clients of your own (tests pass them behind aws-sdk-client-mock). */
  readonly dynamo?: DynamoDBClient;
  readonly sfn?: SFNClient;
  readonly sts?: STSClient;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => Date;
  readonly io?: Io;
  /** Where `--sandbox` without a URL looks for the running sandbox. @default process.cwd() */
  readonly cwd?: string;
}

/** Finds the approvals table: `--table`, SHIPLANE_APPROVALS_TABLE, or the single table named like the stack's. */
export function approvalsTableName(
  options: DecideOptions,
  dynamo: DynamoDBClient,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return stackTableName(APPROVALS_TABLE, options, dynamo, env);
}

/** The stages that may hold an approval for the run: `--stage`, or those the config gives an approval. */
async function candidateStages(options: DecideOptions): Promise<string[]> {
  if (options.stage) return [options.stage];
  const { loadConfig } = await import('../../shared/config/load.js');
  const file = options.config ?? DEFAULT_CONFIG_FILE;
  let config: Awaited<ReturnType<typeof loadConfig>>;
  try {
    config = await loadConfig(file);
  } catch (error) {
    throw new TerminalError(`pass --stage, or run where ${file} is readable: ${(error as Error).message}`);
  }
  return config.stages.filter((stage) => stage.approval).map((stage) => stage.name);
}

/** What a decision came to; a sandbox answers the same kinds (local/sandbox/api-client.ts). */
export type ExplainedOutcome =
  | Exclude<DecisionOutcome, { kind: 'unavailable' }>
  | { readonly kind: 'unavailable'; readonly error: { readonly message: string } };

function explain(outcome: ExplainedOutcome, decision: 'approved' | 'rejected', who: string): string {
  switch (outcome.kind) {
    case 'decided': {
      const { facts } = outcome.record;
      return `${decision === 'approved' ? 'Approved' : 'Rejected'} ${facts.app} ${facts.tag} for ${facts.stage} (run ${outcome.record.execution}) as ${who}.`;
    }
    case 'already-decided': {
      const d = outcome.record.decision;
      return `already ${outcome.record.status}${d ? ` by ${d.byName ?? d.by} at ${d.at}` : ''}; nothing changed`;
    }
    case 'expired':
      return 'this approval expired; the run ended `Approval expired` and nothing changed';
    case 'superseded':
      return 'this approval was superseded by a newer request for the run; nothing changed';
    case 'unavailable':
      return `could not reach Step Functions (${outcome.error.message}); nothing was decided, try again`;
    case 'not-found':
      return 'the approval is gone (older than the table keeps); nothing changed';
    case 'unconfirmed':
      return 'Step Functions no longer waits on this approval and the run does not say what it received; check it with `shiplane show`';
  }
}

/** The reason as recorded, under the rule the Slack dialog and the sandbox keep (checkedDecisionReason). */
function checkedReason(decision: 'approved' | 'rejected', reason: string | undefined): string | undefined {
  const checked = checkedDecisionReason(decision, reason);
  if ('problem' in checked) throw new TerminalError(`--reason: ${checked.problem.message}`);
  return checked.reason;
}

/**
 * Approves or rejects a run's pending approval. Returns the exit code: 0 decided, 1 not decided
 * (already decided, expired, no such approval), 3-7 an AWS problem (cli/failures.ts).
 */
export async function decideFromCli(
  decision: 'approved' | 'rejected',
  execution: string,
  options: DecideOptions,
  deps: DecideCliDeps = {},
): Promise<number> {
  const io = deps.io ?? processIo;
  const env = deps.env ?? process.env;
  const command = decision === 'approved' ? 'approve' : 'reject';
  try {
    const { reason: _typed, ...rest } = options;
    const reason = checkedReason(decision, options.reason);
    const checked: DecideOptions = { ...rest, ...(reason ? { reason } : {}) };
    if (options.sandbox) return await decideInSandbox(decision, execution, checked, deps, io);
    return await decideInAws(decision, execution, checked, deps, io);
  } catch (error) {
    return reportFailure(command, error, io.err, {
      region: options.region,
      table: options.table ?? env.SHIPLANE_APPROVALS_TABLE,
      env,
    });
  }
}

async function decideInAws(
  decision: 'approved' | 'rejected',
  execution: string,
  options: DecideOptions,
  deps: DecideCliDeps,
  io: Io,
): Promise<number> {
  const env = deps.env ?? process.env;
  const region = options.region ? { region: options.region } : {};
  // Loaded here, not at the top: every command module loads on every run of the CLI.
  const [{ DynamoDBClient }, { SFNClient }, { STSClient, GetCallerIdentityCommand }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-sfn'),
    import('@aws-sdk/client-sts'),
  ]);
  const { dynamoApprovalsStore } = await import('../../shared/adapters/aws/approvals-table.js');
  const { stepFunctionsTaskTokens } = await import('../../shared/adapters/aws/task-tokens.js');
  const { decideApproval } = await import('../../shared/steps/approval/decide.js');
  const { pendingApproval } = await import('../../shared/steps/approval/pending.js');
  const { freezeRuleFor } = await import('../../shared/steps/approval/freeze-rule.js');

  const dynamo = deps.dynamo ?? new DynamoDBClient(region);
  const sts = deps.sts ?? new STSClient(region);
  const sfn = deps.sfn ?? new SFNClient(region);
  const store = dynamoApprovalsStore(dynamo, await approvalsTableName(options, dynamo, env));
  const record = await pendingApproval(store, execution, await candidateStages(options));
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Arn)
    throw new TerminalError('AWS did not say who you are (GetCallerIdentity returned no Arn)');

  // The change-freeze rule, with the windows the run stored on its approval (the CLI reads no config).
  const rule = freezeRuleFor({ decision, ...options }, record, undefined, (deps.now ?? (() => new Date()))());
  if ('problem' in rule)
    throw new TerminalError(`${rule.problem} (--break-glass --reason "why"); nothing decided`);

  const outcome = await decideApproval(
    {
      approvalId: record.approvalId,
      decision,
      by: identity.Arn,
      ...(options.reason ? { reason: options.reason } : {}),
      ...(rule.breakGlass ? { breakGlass: rule.breakGlass } : {}),
      via: 'cli',
    },
    {
      store,
      taskTokens: stepFunctionsTaskTokens(sfn),
      now: deps.now ?? (() => new Date()),
      reporter: { info: () => {}, warn: () => {}, error: () => {}, count: () => {} },
    },
  );
  return report(outcome, decision, identity.Arn, io);
}

/** The sandbox decides on its own approvals table and engine, on the same exactly-once path. */
async function decideInSandbox(
  decision: 'approved' | 'rejected',
  execution: string,
  options: DecideOptions,
  deps: DecideCliDeps,
  io: Io,
): Promise<number> {
  const { sandboxUrl } = await import('./runs.js');
  const url = await sandboxUrl(options.sandbox === true ? true : String(options.sandbox), deps);
  const { sandboxDecide } = await import('../../local/sandbox/api-client.js');
  const answer = await sandboxDecide(url, execution, {
    decision,
    ...(options.stage ? { stage: options.stage } : {}),
    ...(options.reason ? { reason: options.reason } : {}),
    ...(options.breakGlass ? { breakGlass: true } : {}),
  });
  return report(answer.outcome, decision, answer.by, io);
}

function report(outcome: ExplainedOutcome, decision: 'approved' | 'rejected', who: string, io: Io): number {
  const message = explain(outcome, decision, who);
  if (outcome.kind === 'decided') {
    io.out(message);
    return 0;
  }
  io.err(`shiplane ${decision === 'approved' ? 'approve' : 'reject'}: ${message}`);
  return 1;
}

/** Adds `approve` and `reject` to the program. */
export function registerApprove(program: Command, deps: DecideCliDeps = {}): void {
  const common = (command: Command) =>
    command
      .option('-s, --stage <stage>', 'the stage waiting for approval (default: the one that is pending)')
      .option(
        '-t, --table <name>',
        'the approvals table (default: $SHIPLANE_APPROVALS_TABLE, or found by name)',
      )
      .option('--sandbox [url]', 'decide in a running sandbox (default: the one started in this folder)')
      .option('--region <region>', 'the AWS region of the stack')
      .option(
        '-c, --config <file>',
        'the config file, to know which stages have approvals',
        DEFAULT_CONFIG_FILE,
      );
  common(
    program
      .command('approve')
      .description('approve a run waiting for approval, as your AWS identity (when Slack is unavailable)')
      .argument('<execution>', 'the execution name (see shiplane runs)')
      .option('-r, --reason <text>', 'why, recorded with the decision')
      .option(
        '--break-glass',
        'approve while the stage is in a change freeze (needs --reason; recorded as a break glass)',
      ),
  ).action(async (execution: string, options: DecideOptions) => {
    process.exitCode = await decideFromCli('approved', execution, options, deps);
  });
  common(
    program
      .command('reject')
      .description('reject a run waiting for approval, as your AWS identity; the run ends Rejected')
      .argument('<execution>', 'the execution name (see shiplane runs)')
      .requiredOption('-r, --reason <text>', 'why, recorded with the decision and shown in Slack'),
  ).action(async (execution: string, options: DecideOptions) => {
    process.exitCode = await decideFromCli('rejected', execution, options, deps);
  });
}
