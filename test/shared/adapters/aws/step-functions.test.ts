import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ALREADY_RUNNING_AFTER_MS,
  stepFunctionsStartExecution,
} from '../../../../shared/adapters/aws/step-functions.js';
import type { RunInput } from '../../../../shared/contracts/tasks.js';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:shiplane-promotion';
const EXECUTION_ARN =
  'arn:aws:states:eu-west-1:123456789012:execution:shiplane-promotion:backend-v1.4.2-7f5b2640fe6f';
const NOW = Date.parse('2026-12-02T12:00:00Z');
const input = {
  release: {
    app: 'backend',
    ecrRepository: 'itdo-erp/backend',
    image: 'itdo-erp/backend',
    tag: 'v1.4.2',
    digest: `sha256:${'a'.repeat(64)}`,
    registryId: '123456789012',
    region: 'eu-west-1',
    pushedAt: '2026-12-02T11:50:00.000Z',
  },
} as RunInput;

const sfn = mockClient(SFNClient);
const start = () =>
  stepFunctionsStartExecution(
    new SFNClient({ region: 'eu-west-1' }),
    STATE_MACHINE_ARN,
    () => NOW,
  )({
    name: 'backend-v1.4.2-7f5b2640fe6f',
    input,
  });

beforeEach(() => sfn.reset());

describe('stepFunctionsStartExecution', () => {
  it('a new execution: started, with its ARN and the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date(NOW + 120) });
    expect(await start()).toEqual({ status: 'started', executionArn: EXECUTION_ARN });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'backend-v1.4.2-7f5b2640fe6f',
      input: JSON.stringify(input),
    });
  });

  it('the same name and input still running since long before: the same release seen again, not a new start', async () => {
    // Step Functions answers an idempotent start with the running execution and its own start date.
    sfn.on(StartExecutionCommand).resolves({
      executionArn: EXECUTION_ARN,
      startDate: new Date(NOW - 10 * 60_000),
    });
    expect(await start()).toEqual({ status: 'already-exists' });
  });

  it('a start date a little before the request (clock skew) is still a new start', async () => {
    sfn.on(StartExecutionCommand).resolves({
      executionArn: EXECUTION_ARN,
      startDate: new Date(NOW - ALREADY_RUNNING_AFTER_MS + 1_000),
    });
    expect(await start()).toEqual({ status: 'started', executionArn: EXECUTION_ARN });
  });

  it('ExecutionAlreadyExists (ran before, or runs with another input): already-exists', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    expect(await start()).toEqual({ status: 'already-exists' });
  });

  it('any other error is thrown, for the caller to retry', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(start()).rejects.toThrow('Rate exceeded');
  });

  it('an answer without an executionArn is an error, never a silent start', async () => {
    sfn.on(StartExecutionCommand).resolves({});
    await expect(start()).rejects.toThrow('returned no executionArn');
  });
});
