import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { retryExecution } from '../../cli/commands/retry.js';
import type { Io } from '../../cli/io.js';

const MACHINE = 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:ShiplanePromotion';
const execArn = (name: string) =>
  `arn:aws:states:ap-northeast-1:123456789012:execution:ShiplanePromotion:${name}`;
const NAME = 'backend-v2.1.7-9c1d2e3f4a5b';
const RELEASE = {
  app: 'backend',
  ecrRepository: 'itdo-erp/backend',
  image: 'itdo-erp/backend',
  tag: 'v2.1.7',
  digest: `sha256:9c1d2e3f4a5b${'0'.repeat(52)}`,
  registryId: '123456789012',
  region: 'ap-northeast-1',
  pushedAt: '2026-11-26T14:00:00Z',
};

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'ap-northeast-1' });

/** DescribeExecution answers for `name`; every other name does not exist. */
function run(name: string, status: string, fields: { output?: unknown; retryOf?: string } = {}) {
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(name) }).resolves({
    executionArn: execArn(name),
    name,
    status: status as 'FAILED',
    input: JSON.stringify({ release: RELEASE, ...(fields.retryOf ? { retryOf: fields.retryOf } : {}) }),
    ...(fields.output ? { output: JSON.stringify(fields.output) } : {}),
  });
}

const started = () => sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'nope', $metadata: {} }));
  sfnMock
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: execArn(input.name), startDate: new Date() }));
});

describe('shiplane retry against a deployed stack', () => {
  it('starts <name>-r2 with the same release, recorded as a retry of the failed run', async () => {
    // Prepare
    run(NAME, 'FAILED');
    const io = capture();

    // Act
    const code = await retryExecution(NAME, { stateMachine: MACHINE }, io, { sfn });

    // Assess
    expect(code).toBe(0);
    expect(started()).toEqual([
      {
        stateMachineArn: MACHINE,
        name: `${NAME}-r2`,
        input: JSON.stringify({ release: RELEASE, retryOf: NAME }),
      },
    ]);
    expect(io.lines).toEqual([
      `started ${NAME}-r2, a retry of ${NAME} (attempt 2)`,
      `follow it: shiplane show ${NAME}-r2`,
    ]);
  });

  it('retries a manual rollback as the same rollback (its input keeps rollback)', async () => {
    const name = 'backend-production-rollback-v2.1.7-1';
    const rollback = { stage: 'production', from: { tag: 'v2.1.8' }, reason: 'checkout errors' };
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(name) }).resolves({
      executionArn: execArn(name),
      name,
      status: 'SUCCEEDED',
      input: JSON.stringify({ release: RELEASE, rollback }),
      output: JSON.stringify({ outcome: 'expired' }),
    });

    const code = await retryExecution(name, { stateMachine: MACHINE }, capture(), { sfn });

    expect(code).toBe(0);
    expect(started()).toEqual([
      {
        stateMachineArn: MACHINE,
        name: `${name}-r2`,
        input: JSON.stringify({ release: RELEASE, retryOf: name, rollback }),
      },
    ]);
  });

  it('takes the next free suffix: -r3 when -r2 exists and failed too', async () => {
    run(NAME, 'FAILED');
    run(`${NAME}-r2`, 'FAILED', { retryOf: NAME });

    const code = await retryExecution(NAME, { stateMachine: MACHINE }, capture(), { sfn });

    expect(code).toBe(0);
    expect(started().map((input) => input?.name)).toEqual([`${NAME}-r3`]);
  });

  it('retries a retry under the original name: retry of -r2 starts -r3, a retry of the first run', async () => {
    run(NAME, 'FAILED');
    run(`${NAME}-r2`, 'SUCCEEDED', { retryOf: NAME, output: { outcome: 'expired' } });

    const code = await retryExecution(`${NAME}-r2`, { stateMachine: MACHINE }, capture(), { sfn });

    expect(code).toBe(0);
    expect(started()).toEqual([
      expect.objectContaining({
        name: `${NAME}-r3`,
        input: JSON.stringify({ release: RELEASE, retryOf: NAME }),
      }),
    ]);
  });

  it('retries a rejected run (it ended SUCCEEDED, outcome rejected)', async () => {
    run(NAME, 'SUCCEEDED', { output: { outcome: 'rejected' } });

    expect(await retryExecution(NAME, { stateMachine: MACHINE }, capture(), { sfn })).toBe(0);
    expect(started()).toHaveLength(1);
  });

  it('refuses a run that is still running, exit 1, and starts nothing', async () => {
    run(NAME, 'RUNNING');
    const io = capture();

    const code = await retryExecution(NAME, { stateMachine: MACHINE }, io, { sfn });

    expect(code).toBe(1);
    expect(io.errors).toEqual([`shiplane retry: ${NAME} is still running; wait for it to end`]);
    expect(started()).toEqual([]);
  });

  it('refuses a run that deployed, and one that a newer release superseded', async () => {
    run(NAME, 'SUCCEEDED', { output: { outcome: 'deployed' } });
    run('backend-v2.1.6-4c1f5e2b8a9d', 'SUCCEEDED', { output: { outcome: 'superseded' } });
    const io = capture();

    const deployed = await retryExecution(NAME, { stateMachine: MACHINE }, io, { sfn });
    const superseded = await retryExecution('backend-v2.1.6-4c1f5e2b8a9d', { stateMachine: MACHINE }, io, {
      sfn,
    });

    expect([deployed, superseded]).toEqual([1, 1]);
    expect(io.errors).toEqual([
      `shiplane retry: ${NAME} deployed its release; push a new tag to release again`,
      'shiplane retry: backend-v2.1.6-4c1f5e2b8a9d was superseded: a newer release is already in the stage, so a retry would not deploy it',
    ]);
    expect(started()).toEqual([]);
  });

  it('refuses while a retry of the same release is running', async () => {
    run(NAME, 'FAILED');
    run(`${NAME}-r2`, 'RUNNING', { retryOf: NAME });
    const io = capture();

    const code = await retryExecution(NAME, { stateMachine: MACHINE }, io, { sfn });

    expect(code).toBe(1);
    expect(io.errors).toEqual([
      `shiplane retry: ${NAME}-r2, a retry of the same release, is still running; wait for it to end`,
    ]);
    expect(started()).toEqual([]);
  });

  it('says which execution does not exist, exit 1', async () => {
    const io = capture();

    const code = await retryExecution('backend-v9.9.9-000000000000', { stateMachine: MACHINE }, io, { sfn });

    expect(code).toBe(1);
    expect(io.errors).toEqual([`shiplane retry: no execution backend-v9.9.9-000000000000 on ${MACHINE}`]);
    expect(started()).toEqual([]);
  });

  it('refuses something that is not an execution name, exit 2, before calling AWS', async () => {
    const io = capture();

    const code = await retryExecution('backend v2.1.7', { stateMachine: MACHINE }, io, { sfn });

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/^shiplane retry: "backend v2\.1\.7" is not an execution name/);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('takes an execution ARN, and prints the result as JSON', async () => {
    run(NAME, 'TIMED_OUT');
    const io = capture();

    const code = await retryExecution(execArn(NAME), { stateMachine: MACHINE, json: true }, io, { sfn });

    expect(code).toBe(0);
    expect(JSON.parse(io.lines[0] ?? '{}')).toEqual({
      result: 'started',
      execution: `${NAME}-r2`,
      executionArn: execArn(`${NAME}-r2`),
      retryOf: NAME,
      attempt: 2,
    });
  });
});
