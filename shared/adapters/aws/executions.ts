/**
 * Reads promotion runs from a deployed stack: ListExecutions, DescribeExecution and
 * GetExecutionHistory on the promotion state machine. `shiplane runs` and `shiplane show` use it;
 * a running sandbox answers the same questions through its JSON API (local/sandbox/api-client.ts).
 * The committer reads a run's newest history events (historyNewestFirst) for its pending commit.
 */
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { parseJson } from '../../domain/execution-timeline.js';
import { TerminalError } from '../../errors.js';
import {
  type ExecutionDescription,
  type ExecutionListItem,
  ExecutionNotFoundError,
  type ExecutionReader,
} from '../../ports/executions.js';

export class StateMachineNotFoundError extends TerminalError {
  override name = 'StateMachineNotFoundError';
}

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

/** The execution ARN of a run of this state machine, from its name (an ARN is returned as is). */
export function executionArn(stateMachineArn: string, nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;
}

/** Reads runs of one state machine through the AWS SDK. */
export function stepFunctionsExecutions(client: SFNClient, stateMachineArn: string): ExecutionReader {
  return {
    async list(filter = {}) {
      const max = filter.max ?? 50;
      const status = filter.status?.toUpperCase();
      if (status !== undefined && !STATUSES.includes(status)) {
        throw new TerminalError(
          `unknown execution status ${filter.status}; use one of ${STATUSES.join(', ')}`,
        );
      }
      const found: ExecutionListItem[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new ListExecutionsCommand({
            stateMachineArn,
            maxResults: 100,
            ...(status ? { statusFilter: status as ExecutionStatus } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        for (const item of page.executions ?? []) {
          if (!item.name || !item.executionArn) continue;
          if (filter.namePrefix && !item.name.startsWith(filter.namePrefix)) continue;
          found.push({
            name: item.name,
            arn: item.executionArn,
            status: item.status ?? 'RUNNING',
            startDate: item.startDate,
            stopDate: item.stopDate,
          });
          if (found.length >= max) return found;
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return found;
    },

    describe: describeRun,

    async get(nameOrArn) {
      const description = await describeRun(nameOrArn);
      const arn = description.arn;
      const events: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new GetExecutionHistoryCommand({
            executionArn: arn,
            maxResults: 1000,
            includeExecutionData: true,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return { ...description, events };
    },
  };

  async function describeRun(nameOrArn: string): Promise<ExecutionDescription> {
    const arn = executionArn(stateMachineArn, nameOrArn);
    try {
      const described = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
      return {
        name: described.name ?? nameOrArn,
        arn,
        status: described.status ?? 'RUNNING',
        startDate: described.startDate,
        stopDate: described.stopDate,
        input: parseJson(described.input),
        output: parseJson(described.output),
        error: described.error,
        cause: described.cause,
      };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) {
        throw new ExecutionNotFoundError(`no execution ${nameOrArn} on ${stateMachineArn}`, { cause: error });
      }
      throw error;
    }
  }
}

/** How many events one newest-first history page holds: a waiting run's current task is in the first. */
export const NEWEST_FIRST_PAGE_SIZE = 100;

/**
 * An execution's history, newest event first, with execution data (inputs, outputs, task
 * parameters): GetExecutionHistory with reverseOrder, one page at a time as the caller reads on, so
 * a caller that stops early fetches no further page.
 * @throws ExecutionNotFoundError when the state machine has no such execution
 */
export async function* historyNewestFirst(
  client: SFNClient,
  stateMachineArn: string,
  nameOrArn: string,
  pageSize = NEWEST_FIRST_PAGE_SIZE,
): AsyncGenerator<HistoryEvent, void, undefined> {
  const arn = executionArn(stateMachineArn, nameOrArn);
  let nextToken: string | undefined;
  do {
    let page: Awaited<ReturnType<typeof sendHistory>>;
    try {
      page = await sendHistory(client, arn, pageSize, nextToken);
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) {
        throw new ExecutionNotFoundError(`no execution ${nameOrArn} on ${stateMachineArn}`, { cause: error });
      }
      throw error;
    }
    yield* page.events ?? [];
    nextToken = page.nextToken;
  } while (nextToken);
}

function sendHistory(client: SFNClient, arn: string, pageSize: number, nextToken: string | undefined) {
  return client.send(
    new GetExecutionHistoryCommand({
      executionArn: arn,
      reverseOrder: true,
      maxResults: pageSize,
      includeExecutionData: true,
      ...(nextToken ? { nextToken } : {}),
    }),
  );
}

/**
 * Finds the promotion state machine when none is given: the one state machine in the account and
 * region whose name contains `hint` (Shiplane's stack names it `…Promotion…`).
 */
export async function findStateMachine(client: SFNClient, hint = 'promotion'): Promise<string> {
  const matches: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListStateMachinesCommand({ maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
    );
    for (const machine of page.stateMachines ?? []) {
      if (machine.name?.toLowerCase().includes(hint.toLowerCase()) && machine.stateMachineArn) {
        matches.push(machine.stateMachineArn);
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  if (matches.length === 1 && matches[0]) return matches[0];
  throw new StateMachineNotFoundError(
    matches.length === 0
      ? `no state machine whose name contains "${hint}" in this account and region; pass --state-machine ARN`
      : `several state machines match "${hint}" (${matches.join(', ')}); pass --state-machine ARN`,
  );
}
