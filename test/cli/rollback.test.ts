/**
 * `shiplane rollback` against a deployed stack, with the AWS SDK mocked: the stage's record of
 * healthy tags from the approvals table, the run from Step Functions, the caller from STS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { beforeEach, describe, expect, it } from 'vitest';
import { registerRollback, rollbackStage } from '../../cli/commands/rollback.js';
import type { Io } from '../../cli/io.js';
import type { Release } from '../../shared/contracts/tasks.js';
import type { DeployedTag, PinnedTag } from '../../shared/domain/stage-tags.js';

const MACHINE = 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:ShiplanePromotion';
const TABLE = 'shiplane-approvals';
const CALLER = 'arn:aws:iam::123456789012:user/aiko';
const execArn = (name: string) =>
  `arn:aws:states:ap-northeast-1:123456789012:execution:ShiplanePromotion:${name}`;

const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const releaseOf = (n: number, tag = `v2.1.${n}`): Release => ({
  app: 'backend',
  ecrRepository: 'itdo-erp/backend',
  image: 'itdo-erp/backend',
  tag,
  digest: digestOf(n),
  registryId: '123456789012',
  region: 'ap-northeast-1',
  pushedAt: '2026-11-20T10:00:00Z',
});
const healthy = (n: number): DeployedTag => ({
  tag: `v2.1.${n}`,
  digest: digestOf(n),
  execution: `backend-v2.1.${n}-run`,
  at: `2026-11-2${n}T10:00:00.000Z`,
  commit: String(n).repeat(40),
  release: releaseOf(n),
});

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

const sfnMock = mockClient(SFNClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const stsMock = mockClient(STSClient);
const deps = {
  sfn: new SFNClient({ region: 'ap-northeast-1' }),
  dynamo: new DynamoDBClient({ region: 'ap-northeast-1' }),
  sts: new STSClient({ region: 'ap-northeast-1' }),
  env: {},
};
const options = { stateMachine: MACHINE, table: TABLE, config: 'shiplane.config.yaml' };

/** The stage's `deployed#` item: its healthy history and, when given, what a later commit pinned. */
function recorded(stage: string, history: DeployedTag[], pinned?: PinnedTag) {
  ddbMock.on(GetCommand, { TableName: TABLE, Key: { pk: `deployed#backend#${stage}` } }).resolves({
    Item: {
      pk: `deployed#backend#${stage}`,
      kind: 'deployed',
      ...(history.at(-1) ? { tag: history.at(-1)?.tag } : {}),
      history,
      ...(pinned ? { pinned } : {}),
      revision: history.length,
    },
  });
}

/** DescribeExecution answers `status` for `name`; every other name does not exist. */
function existing(name: string, status: string) {
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(name) }).resolves({
    executionArn: execArn(name),
    name,
    status: status as 'RUNNING',
    input: '{}',
  });
}

const started = () => sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
const startedInput = () => JSON.parse(started()[0]?.input ?? '{}');

beforeEach(() => {
  sfnMock.reset();
  ddbMock.reset();
  stsMock.reset();
  ddbMock.on(GetCommand).resolves({});
  sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'nope', $metadata: {} }));
  sfnMock
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: execArn(input.name), startDate: new Date() }));
  stsMock.on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: '123456789012', UserId: 'AIDA' });
});

describe('shiplane rollback against a deployed stack', () => {
  it('starts a run that puts staging back on the previous healthy tag, recording who asked and why', async () => {
    // Prepare: staging ran v2.1.4, v2.1.5 and v2.1.6 healthy, and runs v2.1.6.
    recorded('staging', [healthy(4), healthy(5), healthy(6)]);
    const io = capture();

    // Act
    const code = await rollbackStage(
      'backend',
      { ...options, stage: 'staging', reason: 'checkout errors' },
      io,
      deps,
    );

    // Assess
    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    expect(started()).toEqual([
      {
        stateMachineArn: MACHINE,
        name: 'backend-staging-rollback-v2.1.5-1',
        input: JSON.stringify({
          release: releaseOf(5),
          rollback: {
            stage: 'staging',
            from: { tag: 'v2.1.6', digest: digestOf(6) },
            reason: 'checkout errors',
            by: CALLER,
          },
        }),
      },
    ]);
    expect(io.lines).toEqual([
      'started backend-staging-rollback-v2.1.5-1: roll back backend in staging v2.1.6 → v2.1.5',
      'follow it: shiplane show backend-staging-rollback-v2.1.5-1',
    ]);
  });

  it('goes back to the newest healthy tag when the stage was left on one that never got healthy', async () => {
    recorded('staging', [healthy(4), healthy(5)], {
      tag: 'v2.1.6-bad',
      digest: digestOf(66),
      execution: 'backend-v2.1.6-bad-run',
      at: '2026-11-26T10:00:00.000Z',
    });

    const code = await rollbackStage('backend', { ...options, stage: 'staging' }, capture(), deps);

    expect(code).toBe(0);
    expect(startedInput()).toMatchObject({
      release: { tag: 'v2.1.5' },
      rollback: {
        from: { tag: 'v2.1.6-bad', digest: digestOf(66) },
        reason: 'manual rollback (shiplane rollback)',
      },
    });
  });

  it('takes --to a tag the stage ran healthy, and says production asks for approval first', async () => {
    recorded('production', [healthy(3), healthy(4), healthy(5)]);
    const io = capture();

    const code = await rollbackStage('backend', { ...options, stage: 'production', to: 'v2.1.3' }, io, deps);

    expect(code).toBe(0);
    expect(started()[0]?.name).toBe('backend-production-rollback-v2.1.3-1');
    expect(startedInput()).toMatchObject({ release: releaseOf(3), rollback: { stage: 'production' } });
    expect(io.lines[1]).toBe('production asks for approval in Slack before the rollback is committed');
  });

  it('refuses --to a tag the stage never ran healthy: a clear error, exit 1, nothing started', async () => {
    recorded('staging', [healthy(4), healthy(5)]);
    const io = capture();

    const code = await rollbackStage('backend', { ...options, stage: 'staging', to: 'v9.9.9' }, io, deps);

    expect(code).toBe(1);
    expect(io.errors).toEqual([
      "shiplane rollback: staging never ran backend v9.9.9 Synced and Healthy, so Shiplane will not roll back to it (Shiplane's record of backend healthy in staging, newest first: v2.1.5, v2.1.4); nothing was started",
    ]);
    expect(started()).toEqual([]);
  });

  it('refuses when the stage has no record of healthy tags: a clear error, nothing started', async () => {
    const io = capture();

    const code = await rollbackStage('backend', { ...options, stage: 'staging' }, io, deps);

    expect(code).toBe(1);
    expect(io.errors).toEqual([
      'shiplane rollback: Shiplane has no healthy tag of backend recorded in staging yet; it records one each time staging turns Synced and Healthy; nothing was started',
    ]);
    expect(started()).toEqual([]);
  });

  it('refuses an unknown app or stage with the ones the config has, exit 2, before any AWS call', async () => {
    const io = capture();

    const app = await rollbackStage('billing', { ...options, stage: 'staging' }, io, deps);
    const stage = await rollbackStage('backend', { ...options, stage: 'qa' }, io, deps);

    expect([app, stage]).toEqual([2, 2]);
    expect(io.errors).toEqual([
      'shiplane rollback: unknown app billing; the config has backend, frontend; nothing was started',
      'shiplane rollback: unknown stage qa; the config has staging, production; nothing was started',
    ]);
    expect([...ddbMock.calls(), ...stsMock.calls(), ...sfnMock.calls()]).toEqual([]);
  });

  it('does not start the same rollback twice while it runs, and numbers the next one once it ended', async () => {
    recorded('staging', [healthy(4), healthy(5), healthy(6)]);
    existing('backend-staging-rollback-v2.1.5-1', 'RUNNING');
    const io = capture();

    const running = await rollbackStage('backend', { ...options, stage: 'staging' }, io, deps);
    existing('backend-staging-rollback-v2.1.5-1', 'SUCCEEDED');
    const again = await rollbackStage('backend', { ...options, stage: 'staging' }, io, deps);

    expect(running).toBe(1);
    expect(io.errors[0]).toBe(
      'shiplane rollback: the rollback of backend in staging to v2.1.5 is already running as backend-staging-rollback-v2.1.5-1; follow it with `shiplane show backend-staging-rollback-v2.1.5-1`; nothing was started',
    );
    expect(again).toBe(0);
    expect(started().map((input) => input?.name)).toEqual(['backend-staging-rollback-v2.1.5-2']);
  });

  it('prints the result as JSON', async () => {
    recorded('staging', [healthy(4), healthy(5)]);
    const io = capture();

    const code = await rollbackStage('backend', { ...options, stage: 'staging', json: true }, io, deps);

    expect(code).toBe(0);
    expect(JSON.parse(io.lines[0] ?? '{}')).toEqual({
      result: 'started',
      execution: 'backend-staging-rollback-v2.1.4-1',
      executionArn: execArn('backend-staging-rollback-v2.1.4-1'),
      app: 'backend',
      stage: 'staging',
      from: 'v2.1.5',
      to: 'v2.1.4',
      digest: digestOf(4),
      approval: false,
    });
  });

  it('needs --stage, as commander says', async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerRollback(program, capture(), deps);

    await expect(program.parseAsync(['node', 'shiplane', 'rollback', 'backend'])).rejects.toThrow(
      "required option '-s, --stage <stage>' not specified",
    );
    expect(started()).toEqual([]);
  });
});
