/**
 * Which of the stack's DynamoDB tables a command reads: `--table`, the environment variable, or the
 * one table in the account and region whose name contains the stack's logical id for it (CloudFormation
 * names tables `<stack>-<logicalid><hash>`). Shared by approve/reject/rollback (approvals) and metrics
 * (run records).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TerminalError } from '../shared/errors.js';

/** None or several tables match: names the stack output that gives the right one. */
export class StackTableNotFoundError extends TerminalError {
  override name = 'StackTableNotFoundError';
  constructor(
    message: string,
    /** The stack output that names the table, e.g. `ApprovalsTableName`. */
    readonly stackOutput: string,
  ) {
    super(message);
  }
}

export interface StackTable {
  /** What the table's name contains, lower case: `approvals`, `runrecords`. */
  readonly needle: string;
  /** The environment variable that names it: `SHIPLANE_APPROVALS_TABLE`. */
  readonly envName: string;
  /** The stack output that names it: `ApprovalsTableName`. */
  readonly stackOutput: string;
}

export async function stackTableName(
  table: StackTable,
  options: { readonly table?: string | undefined },
  dynamo: DynamoDBClient,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (options.table) return options.table;
  const fromEnv = env[table.envName];
  if (fromEnv) return fromEnv;
  const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
  const matches: string[] = [];
  let start: string | undefined;
  do {
    const page = await dynamo.send(
      new ListTablesCommand({ ...(start ? { ExclusiveStartTableName: start } : {}) }),
    );
    matches.push(...(page.TableNames ?? []).filter((name) => name.toLowerCase().includes(table.needle)));
    start = page.LastEvaluatedTableName;
  } while (start);
  if (matches.length === 1 && matches[0]) return matches[0];
  const advice = `pass --table NAME or set ${table.envName}`;
  throw new StackTableNotFoundError(
    matches.length === 0
      ? `no DynamoDB table whose name contains "${table.needle}" in this account and region; ${advice}`
      : `several tables match "${table.needle}" (${matches.join(', ')}); ${advice}`,
    table.stackOutput,
  );
}
