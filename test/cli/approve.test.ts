import { ConditionalCheckFailedException, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvalsTableName, decideFromCli, registerApprove } from '../../cli/commands/approve.js';
import type { Io } from '../../cli/io.js';
import { approvalDecisionSchema } from '../../shared/contracts/tasks.js';
import { approvalRequest } from '../fixtures/slack/context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const raw = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);
const CALLER = 'arn:aws:sts::123456789012:assumed-role/PlatformAdmin/alice';
const EXECUTION = approvalRequest().execution;
const NOW = new Date('2026-11-26T14:02:00Z');

let items: Map<string, Record<string, unknown>>;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: Io = { out: (t) => out.push(t), err: (t) => err.push(t) };
  return { value, out, err };
}

/** The table as DynamoDB answers these calls, the claim conditional on `pending`. */
function table(status = 'pending') {
  const request = approvalRequest();
  items = new Map();
  items.set(`execution#${EXECUTION}#production`, {
    pk: `execution#${EXECUTION}#production`,
    approvalId: 'a1',
  });
  items.set('approval#a1', {
    pk: 'approval#a1',
    kind: 'approval',
    approvalId: 'a1',
    execution: EXECUTION,
    stage: 'production',
    taskToken: request.taskToken,
    status,
    approvers: request.approvers,
    facts: { app: 'backend', tag: 'v1.4.2', stage: 'production' },
    createdAt: '2026-11-26T14:00:00Z',
    deadline: Math.floor(NOW.getTime() / 1000) + 3_600,
    expiresAt: 0,
    ...(status === 'approved'
      ? { decision: { status, by: 'U0PLATFORM1', byName: 'alice', at: '2026-11-26T14:01:00Z', via: 'slack' } }
      : {}),
  });
  ddb.on(GetCommand).callsFake(async (input: { Key: { pk: string } }) => ({ Item: items.get(input.Key.pk) }));
  ddb
    .on(UpdateCommand)
    .callsFake(
      async (input: {
        Key: { pk: string };
        UpdateExpression: string;
        ExpressionAttributeValues: Record<string, unknown>;
      }) => {
        const item = items.get(input.Key.pk);
        const values = input.ExpressionAttributeValues;
        if (input.UpdateExpression.startsWith('SET #status = :decided')) {
          if (item?.status !== 'pending') {
            throw new ConditionalCheckFailedException({
              message: 'The conditional request failed',
              $metadata: {},
            });
          }
          const next = { ...item, status: values[':decided'], decision: values[':decision'] };
          items.set(input.Key.pk, next);
          return { Attributes: next };
        }
        if (input.UpdateExpression.startsWith('SET #status = :to')) {
          items.set(input.Key.pk, { ...item, status: values[':to'], closedAt: values[':at'] });
          return {};
        }
        throw new Error(`unexpected update ${input.UpdateExpression}`);
      },
    );
}

beforeEach(() => {
  ddb.reset();
  raw.reset();
  sfn.reset();
  sts.reset();
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: '123456789012', Arn: CALLER, UserId: 'AROAEXAMPLE:alice' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  table();
});

afterEach(() => {
  process.exitCode = undefined;
});

const deps = (out = io()) => ({ io: out.value, env: {}, now: () => NOW });
const options = { table: 'shiplane-approvals', stage: 'production' };

describe('shiplane approve', () => {
  it('approves the pending approval as the AWS caller, through the same exactly-once path', async () => {
    const out = io();
    expect(await decideFromCli('approved', EXECUTION, { ...options, reason: 'hotfix' }, deps(out))).toBe(0);
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(approvalDecisionSchema.parse(JSON.parse(sent?.output ?? ''))).toEqual({
      decision: 'approved',
      approvalId: 'a1',
      by: CALLER,
      at: '2026-11-26T14:02:00.000Z',
      reason: 'hotfix',
      via: 'cli',
    });
    expect(items.get('approval#a1')).toMatchObject({
      status: 'approved',
      decision: { by: CALLER, via: 'cli' },
    });
    expect(out.out).toEqual([`Approved backend v1.4.2 for production (run ${EXECUTION}) as ${CALLER}.`]);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.TableName).toBe('shiplane-approvals');
  });

  describe('during a change freeze stored on the approval (the CLI reads no config)', () => {
    const frozen = () => {
      const item = items.get('approval#a1')!;
      items.set('approval#a1', {
        ...item,
        freeze: [
          {
            kind: 'fixed',
            from: '2026-11-26T13:00:00Z',
            to: '2026-11-26T18:00:00Z',
            reason: 'release freeze',
          },
        ],
      });
    };

    it('refuses a plain approve, saying until when and how to break glass; nothing decided', async () => {
      frozen();
      const out = io();
      expect(await decideFromCli('approved', EXECUTION, options, deps(out))).toBe(1);
      expect(out.err.join('\n')).toMatch(
        /production frozen until .*release freeze; approving during a change freeze needs break glass with a reason \(--break-glass --reason "why"\); nothing decided/,
      );
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(items.get('approval#a1')).toMatchObject({ status: 'pending' });
    });

    it('refuses --break-glass without a reason; nothing decided', async () => {
      frozen();
      const out = io();
      expect(await decideFromCli('approved', EXECUTION, { ...options, breakGlass: true }, deps(out))).toBe(1);
      expect(out.err.join('\n')).toMatch(/break glass needs a reason/);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });

    it('approves with --break-glass and a reason, recorded as a break glass', async () => {
      frozen();
      const out = io();
      expect(
        await decideFromCli(
          'approved',
          EXECUTION,
          { ...options, breakGlass: true, reason: 'fix for the outage' },
          deps(out),
        ),
      ).toBe(0);
      const sent = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '');
      expect(sent).toMatchObject({
        decision: 'approved',
        reason: 'fix for the outage',
        breakGlass: { until: '2026-11-26T18:00:00.000Z', freeze: expect.stringContaining('release freeze') },
      });
      expect(items.get('approval#a1')).toMatchObject({
        status: 'approved',
        decision: { breakGlass: { until: '2026-11-26T18:00:00.000Z' } },
      });
    });

    it('refuses --break-glass when nothing is frozen', async () => {
      const out = io();
      expect(
        await decideFromCli('approved', EXECUTION, { ...options, breakGlass: true, reason: 'x' }, deps(out)),
      ).toBe(1);
      expect(out.err.join('\n')).toMatch(/production is not frozen now/);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });
  });

  it('refuses a second decision and says who decided first', async () => {
    table('approved');
    const out = io();
    expect(await decideFromCli('approved', EXECUTION, options, deps(out))).toBe(1);
    expect(out.err).toEqual([
      'shiplane approve: already approved by alice at 2026-11-26T14:01:00Z; nothing changed',
    ]);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('says the approval expired when Step Functions no longer waits', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const out = io();
    expect(await decideFromCli('approved', EXECUTION, options, deps(out))).toBe(1);
    expect(out.err[0]).toContain('this approval expired');
    expect(items.get('approval#a1')?.status).toBe('expired');
  });

  it('finds the stage from the config when --stage is not given', async () => {
    const out = io();
    expect(await decideFromCli('approved', EXECUTION, { table: 'shiplane-approvals' }, deps(out))).toBe(0);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual({
      pk: `execution#${EXECUTION}#production`,
    });
  });

  it('says so when the run has no approval', async () => {
    const out = io();
    expect(await decideFromCli('approved', 'backend-v9-unknown', options, deps(out))).toBe(1);
    expect(out.err).toEqual([
      'shiplane approve: no approval for backend-v9-unknown in production; check the execution name (shiplane runs)',
    ]);
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('shiplane reject', () => {
  it('rejects with the reason and the caller in the cause', async () => {
    const program = new Command().exitOverride();
    const out = io();
    registerApprove(program, deps(out));
    await program.parseAsync(
      [
        'reject',
        EXECUTION,
        '--reason',
        'release freeze',
        '--table',
        'shiplane-approvals',
        '--stage',
        'production',
      ],
      { from: 'user' },
    );
    expect(process.exitCode).toBe(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: approvalRequest().taskToken,
      error: 'Shiplane.Rejected',
      cause: `Rejected by ${CALLER} via cli: release freeze`,
    });
    expect(out.out[0]).toMatch(/^Rejected backend v1.4.2 for production/);
  });

  it('refuses a blank or over-long reason, as the Slack dialog does, and decides nothing', async () => {
    for (const reason of ['', '   ', 'x'.repeat(501)]) {
      const program = new Command().exitOverride();
      const out = io();
      registerApprove(program, deps(out));
      process.exitCode = undefined;
      await program.parseAsync(
        ['reject', EXECUTION, '--reason', reason, '--table', 'shiplane-approvals', '--stage', 'production'],
        { from: 'user' },
      );
      expect(process.exitCode, JSON.stringify(reason)).toBe(1);
      expect(out.err.join('')).toMatch(/--reason: say why you reject it|--reason: keep it to 500 characters/);
    }
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('requires a reason', async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerApprove(program, deps());
    await expect(program.parseAsync(['reject', EXECUTION], { from: 'user' })).rejects.toThrow(/--reason/);
  });
});

describe('approvalsTableName', () => {
  it('takes --table, then SHIPLANE_APPROVALS_TABLE, then the one table named like the stack', async () => {
    const dynamo = new DynamoDBClient({});
    expect(await approvalsTableName({ table: 't1' }, dynamo, { SHIPLANE_APPROVALS_TABLE: 't2' })).toBe('t1');
    expect(await approvalsTableName({}, dynamo, { SHIPLANE_APPROVALS_TABLE: 't2' })).toBe('t2');
    raw.on(ListTablesCommand).resolves({ TableNames: ['orders', 'Shiplane-approvalstable1A2B3C4D-9XYZ'] });
    expect(await approvalsTableName({}, dynamo, {})).toBe('Shiplane-approvalstable1A2B3C4D-9XYZ');
    raw.on(ListTablesCommand).resolves({ TableNames: ['a-approvals', 'b-approvals'] });
    await expect(approvalsTableName({}, dynamo, {})).rejects.toThrow(/several tables match/);
  });
});
