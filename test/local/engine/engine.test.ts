import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLocalEngine,
  type LocalEngine,
  type LocalEngineOptions,
} from '../../../local/engine/engine.js';
import { LocalDefinitionError } from '../../../local/engine/errors.js';
import type { LocalHandlers } from '../../../local/engine/lambda.js';
import { observability } from '../../../shared/observability/index.js';
import { Inbox } from './inbox.js';
import { cdkTemplate, invoke } from './template.js';

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function engineFor(
  definition: object,
  handlers: LocalHandlers,
  timing: LocalEngineOptions['timing'] = { waitSeconds: 0, retryIntervalMs: 0 },
): LocalEngine {
  const engine = createLocalEngine({ template: cdkTemplate(definition), handlers, timing });
  engines.push(engine);
  return engine;
}

const output = (description: { output?: string | undefined }) => JSON.parse(description.output ?? 'null');

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const approvalTask = (rest: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:{{partition}}:states:::lambda:invoke.waitForTaskToken',
  Parameters: {
    FunctionName: '{{fn:request-approval}}',
    Payload: { 'taskToken.$': '$$.Task.Token', 'execution.$': '$$.Execution.Name' },
  },
  TimeoutSeconds: 86_400,
  ResultPath: '$.approval',
  ...rest,
});

const commitTask = (rest: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:{{partition}}:states:::sqs:sendMessage.waitForTaskToken',
  Parameters: {
    QueueUrl: '{{queue:commit}}',
    MessageBody: { 'taskToken.$': '$$.Task.Token', 'execution.$': '$$.Execution.Name', 'tag.$': '$.tag' },
    MessageGroupId: 'itdo-erp/itdo-erp-infrastructure#main',
  },
  TimeoutSeconds: 900,
  ResultPath: '$.commit',
  ...rest,
});

type ApprovalEvent = { taskToken: string; execution: string };

describe('lambda:invoke tasks', () => {
  it('call the handler in-process with the Payload and a Lambda context, and return { Payload, StatusCode }', async () => {
    // Prepare
    const calls: Array<{ event: unknown; context: Context; remaining: number }> = [];
    const engine = engineFor(
      {
        StartAt: 'Check',
        States: {
          Check: invoke(
            'argocd-health',
            { 'execution.$': '$$.Execution.Name', 'attempt.$': '$.attempt' },
            {
              ResultSelector: { 'status.$': '$.Payload.status', 'code.$': '$.StatusCode' },
              ResultPath: '$.health',
              End: true,
            },
          ),
        },
      },
      {
        'argocd-health': async (event: unknown, context: Context) => {
          calls.push({ event, context, remaining: context.getRemainingTimeInMillis() });
          return { status: 'healthy' };
        },
      },
    );

    // Act
    const result = await engine.start({ attempt: 1 }, 'run-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result)).toEqual({ attempt: 1, health: { status: 'healthy', code: 200 } });
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.event).toEqual({ execution: 'run-1', attempt: 1 });
    expect(call?.context).toMatchObject({
      functionName: 'argocd-health',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:argocd-health',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/argocd-health',
    });
    expect(call?.context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(call?.remaining).toBeGreaterThan(0);
    expect(call?.remaining).toBeLessThanOrEqual(30_000);
  });

  it('run a real middy handler with the shared observability middlewares', async () => {
    // Prepare
    const handler = middy(async (event: { event: string }) => ({ seen: event.event })).use(observability());
    const engine = engineFor(
      {
        StartAt: 'Notify',
        States: {
          Notify: invoke(
            'notify',
            { event: 'started' },
            { ResultSelector: { 'seen.$': '$.Payload.seen' }, End: true },
          ),
        },
      },
      { notify: handler },
    );

    // Act
    const result = await engine.start({}).done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result)).toEqual({ seen: 'started' });
  });

  it("surface a handler's error to Catch with its name as Error and Lambda's error document as Cause", async () => {
    // Prepare
    const engine = engineFor(
      {
        StartAt: 'Check',
        States: {
          Check: invoke(
            'argocd-health',
            {},
            {
              Catch: [{ ErrorEquals: ['ArgoCdAuthError'], ResultPath: '$.error', Next: 'Caught' }],
              End: true,
            },
          ),
          Caught: { Type: 'Pass', End: true },
        },
      },
      {
        'argocd-health': async () => {
          throw new NamedError('ArgoCdAuthError', 'Argo CD answered 401: check the token');
        },
      },
    );

    // Act
    const result = await engine.start({}).done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const { error } = output(result) as { error: { Error: string; Cause: string } };
    expect(error.Error).toBe('ArgoCdAuthError');
    expect(JSON.parse(error.Cause)).toMatchObject({
      errorType: 'ArgoCdAuthError',
      errorMessage: 'Argo CD answered 401: check the token',
    });
  });

  it('are retried on the error name, without waiting IntervalSeconds when retryIntervalMs is 0', async () => {
    // Prepare
    let calls = 0;
    const engine = engineFor(
      {
        StartAt: 'Notify',
        States: {
          Notify: invoke(
            'notify',
            {},
            {
              Retry: [
                { ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 3600, MaxAttempts: 2 },
              ],
              End: true,
            },
          ),
        },
      },
      {
        notify: async () => {
          calls += 1;
          if (calls < 3) throw new NamedError('Lambda.TooManyRequestsException', 'Rate exceeded');
          return { slack: 'posted' };
        },
      },
    );

    // Act
    const result = await engine.start({}).done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
    expect(output(result)).toMatchObject({ Payload: { slack: 'posted' }, StatusCode: 200 });
  });

  it('fail the execution with the error and Cause when nothing catches it', async () => {
    // Prepare
    const engine = engineFor(
      { StartAt: 'Notify', States: { Notify: invoke('notify', {}, { End: true }) } },
      {
        notify: async () => {
          throw new NamedError('InvalidInputError', 'notify input: event is required');
        },
      },
    );

    // Act
    const result = await engine.start({}, 'fails').done;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'InvalidInputError' });
    expect(JSON.parse(result.cause ?? '')).toMatchObject({ errorMessage: 'notify input: event is required' });
    expect(result.stopDate).toBeInstanceOf(Date);
  });
});

describe('Wait states', () => {
  it('wait waitSeconds instead of their Seconds', async () => {
    const engine = engineFor(
      { StartAt: 'Poll again', States: { 'Poll again': { Type: 'Wait', Seconds: 3600, End: true } } },
      {},
      { waitSeconds: 0 },
    );
    const result = await engine.start({ waited: true }).done;
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result)).toEqual({ waited: true });
  });
});

describe('lambda:invoke.waitForTaskToken tasks', () => {
  it('call the handler with the task token and resume with the output sent for it', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      { StartAt: 'Approve', States: { Approve: approvalTask({ End: true }) } },
      {
        'request-approval': async (event: ApprovalEvent) => {
          requests.push(event);
          return { posted: true };
        },
      },
    );

    // Act
    const run = engine.start({ tag: 'v2.1.6' }, 'approve-1');
    const request = await requests.next();
    await engine.sendTaskSuccess(request.taskToken, { decision: 'approved', by: 'U0PLATFORM1' });
    const result = await run.done;

    // Assess
    expect(request.execution).toBe('approve-1');
    expect(request.taskToken).toMatch(/^local:/);
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result)).toEqual({ tag: 'v2.1.6', approval: { decision: 'approved', by: 'U0PLATFORM1' } });
  });

  it('fail with the error and cause sent with SendTaskFailure, which Catch matches by name', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      {
        StartAt: 'Approve',
        States: {
          Approve: approvalTask({
            Catch: [{ ErrorEquals: ['Shiplane.Rejected'], ResultPath: '$.error', Next: 'Rejected' }],
            End: true,
          }),
          Rejected: { Type: 'Pass', Result: 'rejected', ResultPath: '$.outcome', End: true },
        },
      },
      { 'request-approval': async (event: ApprovalEvent) => requests.push(event) },
    );

    // Act
    const run = engine.start({});
    const request = await requests.next();
    await engine.taskTokens.fail(
      request.taskToken,
      'Shiplane.Rejected',
      'rejected by U0PLATFORM1: not today',
    );
    const result = await run.done;

    // Assess
    expect(output(result)).toEqual({
      error: { Error: 'Shiplane.Rejected', Cause: 'rejected by U0PLATFORM1: not today' },
      outcome: 'rejected',
    });
  });

  it('answer a token once: a second answer is TaskTimedOut and a made-up token is InvalidToken', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      { StartAt: 'Approve', States: { Approve: approvalTask({ End: true }) } },
      { 'request-approval': async (event: ApprovalEvent) => requests.push(event) },
    );
    const run = engine.start({});
    const { taskToken } = await requests.next();

    // Act
    await engine.taskTokens.succeed(taskToken, { decision: 'approved' });
    await run.done;

    // Assess
    await expect(engine.sendTaskSuccess(taskToken, {})).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(engine.sendTaskFailure('local:made-up', 'X', 'y')).rejects.toMatchObject({
      name: 'InvalidToken',
    });
  });

  it('time out after the state-specific timeout with States.Timeout, and a late answer is TaskTimedOut', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      {
        StartAt: 'Approve',
        States: {
          Approve: approvalTask({
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Expired' }],
            End: true,
          }),
          Expired: { Type: 'Pass', Result: 'expired', ResultPath: '$.outcome', End: true },
        },
      },
      { 'request-approval': async (event: ApprovalEvent) => requests.push(event) },
      { taskTimeoutsMs: { Approve: 20 } },
    );

    // Act
    const result = await engine.start({}).done;

    // Assess
    expect(output(result)).toMatchObject({ error: { Error: 'States.Timeout' }, outcome: 'expired' });
    const { taskToken } = await requests.next();
    await expect(engine.sendTaskSuccess(taskToken, {})).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('scale TimeoutSeconds by taskTimeoutScale', async () => {
    // Prepare: 24 h scaled down to 20 ms
    const engine = engineFor(
      {
        StartAt: 'Approve',
        States: {
          Approve: approvalTask({
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Expired' }],
            End: true,
          }),
          Expired: { Type: 'Pass', End: true },
        },
      },
      { 'request-approval': async () => ({}) },
      { taskTimeoutScale: 20 / 86_400_000 },
    );

    // Act
    const result = await engine.start({}).done;

    // Assess
    expect(output(result)).toMatchObject({ error: { Error: 'States.Timeout' } });
  });

  it('fail with the function error when the handler throws before the token is answered', async () => {
    // Prepare
    const engine = engineFor(
      {
        StartAt: 'Approve',
        States: {
          Approve: approvalTask({
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
            End: true,
          }),
          Failed: { Type: 'Pass', End: true },
        },
      },
      {
        'request-approval': async () => {
          throw new NamedError('SlackApiError', 'channel_not_found');
        },
      },
    );

    // Act
    const result = await engine.start({}).done;

    // Assess
    expect(output(result)).toMatchObject({ error: { Error: 'SlackApiError' } });
  });
});

describe('the context object', () => {
  it('gives each task a fresh token, the same one to every read within a task, and names the execution and state', async () => {
    // Prepare
    const seen = new Inbox<Record<string, string>>();
    const payload = {
      'taskToken.$': '$$.Task.Token',
      'sameToken.$': '$$.Task.Token',
      'execution.$': '$$.Execution.Name',
      'executionId.$': '$$.Execution.Id',
      'state.$': '$$.State.Name',
      'label.$': "States.Format('{} in {}', $$.State.Name, $$.Execution.Name)",
      'machine.$': '$$.StateMachine.Name',
    };
    const task = (next: object) => ({
      Type: 'Task',
      Resource: 'arn:{{partition}}:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: '{{fn:request-approval}}', Payload: payload },
      TimeoutSeconds: 60,
      ResultPath: null,
      ...next,
    });
    const engine = engineFor(
      { StartAt: 'First', States: { First: task({ Next: 'Second' }), Second: task({ End: true }) } },
      { 'request-approval': async (event: Record<string, string>) => seen.push(event) },
    );

    // Act
    const run = engine.start({}, 'ctx-run');
    const first = await seen.next();
    await engine.sendTaskSuccess(first.taskToken as string, {});
    const second = await seen.next();
    await engine.sendTaskSuccess(second.taskToken as string, {});
    await run.done;

    // Assess
    expect(first.taskToken).toBe(first.sameToken);
    expect(second.taskToken).not.toBe(first.taskToken);
    expect(first).toMatchObject({
      execution: 'ctx-run',
      executionId: 'arn:aws:states:local:000000000000:execution:promotionstatemachine1C9C8EB8:ctx-run',
      state: 'First',
      label: 'First in ctx-run',
      machine: 'promotionstatemachine1C9C8EB8',
    });
    expect(second.state).toBe('Second');
  });
});

describe('sqs:sendMessage.waitForTaskToken tasks', () => {
  it('hand the MessageBody to the committer as an SQS record, and resume when it answers through the engine', async () => {
    // Prepare
    const batches = new Inbox<SQSEvent>();
    let engine: LocalEngine | undefined;
    engine = engineFor(
      { StartAt: 'Commit', States: { Commit: commitTask({ End: true }) } },
      {
        committer: async (event: SQSEvent): Promise<SQSBatchResponse> => {
          batches.push(event);
          for (const record of event.Records) {
            const body = JSON.parse(record.body) as { taskToken: string };
            await engine?.taskTokens.succeed(body.taskToken, { commit: 'a'.repeat(40), status: 'committed' });
          }
          return { batchItemFailures: [] };
        },
      },
    );

    // Act
    const result = await engine.start({ tag: 'v2.1.6' }, 'commit-1').done;

    // Assess
    expect(output(result)).toEqual({
      tag: 'v2.1.6',
      commit: { commit: 'a'.repeat(40), status: 'committed' },
    });
    const [record] = (await batches.next()).Records;
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:shiplane-commit.fifo',
      awsRegion: 'local',
      attributes: {
        ApproximateReceiveCount: '1',
        MessageGroupId: 'itdo-erp/itdo-erp-infrastructure#main',
      },
    });
    expect(record?.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record?.receiptHandle).toEqual(expect.any(String));
    // Content-based deduplication: the id is the SHA-256 of the body.
    expect(record?.attributes.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(record?.body ?? '')).toEqual({
      taskToken: expect.stringMatching(/^local:/),
      execution: 'commit-1',
      tag: 'v2.1.6',
    });
  });

  it('redeliver a message the committer lists in batchItemFailures', async () => {
    // Prepare
    const receives: string[] = [];
    let engine: LocalEngine | undefined;
    engine = engineFor(
      { StartAt: 'Commit', States: { Commit: commitTask({ End: true }) } },
      {
        committer: async (event: SQSEvent) => {
          const [record] = event.Records;
          if (!record) return {};
          receives.push(record.attributes.ApproximateReceiveCount);
          if (receives.length === 1) return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
          await engine?.taskTokens.succeed(JSON.parse(record.body).taskToken, { commit: 'b'.repeat(40) });
          return { batchItemFailures: [] };
        },
      },
    );

    // Act
    const result = await engine.start({ tag: 'v1' }).done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(receives).toEqual(['1', '2']);
  });

  it('dead-letter a message after maxReceiveCount receives, so the waiting task times out', async () => {
    // Prepare
    let receives = 0;
    const engine = engineFor(
      {
        StartAt: 'Commit',
        States: {
          Commit: commitTask({
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Lost' }],
            End: true,
          }),
          Lost: { Type: 'Pass', End: true },
        },
      },
      {
        committer: async () => {
          receives += 1;
          throw new NamedError('HttpError', 'GitHub answered 502');
        },
      },
      { taskTimeoutsMs: { Commit: 200 } },
    );

    // Act
    const result = await engine.start({ tag: 'v1' }).done;

    // Assess
    expect(output(result)).toMatchObject({ error: { Error: 'States.Timeout' } });
    // The template's redrive policy says 3.
    expect(receives).toBe(3);
    const [dead] = engine.deadLetters();
    expect(dead?.queue).toBe('shiplane-commit.fifo');
    expect(dead?.message.receiveCount).toBe(3);
    expect(JSON.parse(dead?.message.body ?? '')).toMatchObject({ tag: 'v1' });
  });
});

describe('sendMessage', () => {
  it("puts another sender's message on a queue by name, URL or role, delivered like the state machine's", async () => {
    const batches = new Inbox<SQSEvent>();
    const engine = engineFor(
      { StartAt: 'Commit', States: { Commit: commitTask({ End: true }) } },
      {
        committer: async (event: SQSEvent) => {
          batches.push(event);
          return { batchItemFailures: [] };
        },
      },
    );

    const sent = engine.sendMessage('commit', {
      body: '{"forged":true}',
      groupId: 'itdo-erp/itdo-erp-infrastructure#main',
    });
    engine.sendMessage('shiplane-commit.fifo', { body: '{"forged":2}', groupId: 'other#main' });

    const [record] = (await batches.next()).Records;
    expect(record).toMatchObject({
      messageId: sent.messageId,
      body: '{"forged":true}',
      attributes: {
        MessageGroupId: 'itdo-erp/itdo-erp-infrastructure#main',
        SequenceNumber: sent.sequenceNumber,
      },
    });
    expect((await batches.next()).Records[0]?.body).toBe('{"forged":2}');
    expect(() => engine.sendMessage('shiplane-intake', { body: '{}' })).toThrow(
      'the local engine has no queue shiplane-intake with a consumer',
    );
    expect(() => engine.sendMessage('commit', { body: '{}' })).toThrow('MessageGroupId');
  });
});

describe('start', () => {
  it('returns the same execution for the same name and input while it runs, like StartExecution', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      { StartAt: 'Approve', States: { Approve: approvalTask({ End: true }) } },
      { 'request-approval': async (event: ApprovalEvent) => requests.push(event) },
    );

    // Act
    const first = engine.start({ tag: 'v1' }, 'backend-v1-4c1f5e2b8a9d');
    const again = engine.start({ tag: 'v1' }, 'backend-v1-4c1f5e2b8a9d');

    // Assess
    expect(again.executionArn).toBe(first.executionArn);
    expect(() => engine.start({ tag: 'v2' }, 'backend-v1-4c1f5e2b8a9d')).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    const { taskToken } = await requests.next();
    await engine.sendTaskSuccess(taskToken, {});
    await first.done;
    // A closed execution's name cannot be reused, whatever the input.
    expect(() => engine.start({ tag: 'v1' }, 'backend-v1-4c1f5e2b8a9d')).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    expect(requests.received).toHaveLength(1);
  });

  it('refuses a name Step Functions would refuse', () => {
    const engine = engineFor({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }, {});
    for (const name of ['', 'has space', 'a'.repeat(81), 'colon:inside', 'tab\tinside']) {
      expect(() => engine.start({}, name)).toThrow(expect.objectContaining({ name: 'InvalidName' }));
    }
  });
});

describe('describeExecution and listExecutions', () => {
  it('report status, input, output and dates, running and finished', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      { StartAt: 'Approve', States: { Approve: approvalTask({ End: true }) } },
      { 'request-approval': async (event: ApprovalEvent) => requests.push(event) },
    );
    const run = engine.start({ tag: 'v1' }, 'described');
    const { taskToken } = await requests.next();

    // Act
    const running = engine.describeExecution('described');
    await engine.sendTaskSuccess(taskToken, { decision: 'approved' });
    await run.done;
    const finished = engine.describeExecution(run.executionArn);

    // Assess
    expect(running).toMatchObject({ name: 'described', status: 'RUNNING', input: '{"tag":"v1"}' });
    expect(running.stopDate).toBeUndefined();
    expect(running.output).toBeUndefined();
    expect(finished).toMatchObject({ status: 'SUCCEEDED', stateMachineArn: engine.stateMachineArn });
    expect(output(finished)).toEqual({ tag: 'v1', approval: { decision: 'approved' } });
    expect(finished.stopDate?.getTime()).toBeGreaterThanOrEqual(finished.startDate.getTime());
    expect(engine.listExecutions()).toEqual([
      expect.objectContaining({ name: 'described', status: 'SUCCEEDED', executionArn: run.executionArn }),
    ]);
    expect(engine.listExecutions({ status: 'RUNNING' })).toEqual([]);
    expect(() => engine.describeExecution('unknown')).toThrow(
      expect.objectContaining({ name: 'ExecutionDoesNotExist' }),
    );
  });
});

describe('history', () => {
  it('has the events GetExecutionHistory would list, in order, and streams them live', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      {
        StartAt: 'Prepare',
        States: {
          Prepare: { Type: 'Pass', Result: { staging: {} }, ResultPath: '$.stages', Next: 'Notify' },
          Notify: invoke('notify', { event: 'started' }, { ResultPath: null, Next: 'Approve' }),
          Approve: approvalTask({ End: true }),
        },
      },
      {
        notify: async () => ({ slack: 'posted', alert: 'skipped' }),
        'request-approval': async (event: ApprovalEvent) => requests.push(event),
      },
    );
    const live: string[] = [];
    engine.on('event', ({ name, event }) => live.push(`${name}:${event.type}`));

    // Act
    const run = engine.start({ tag: 'v1' }, 'history-1');
    const { taskToken } = await requests.next();
    await engine.sendTaskSuccess(taskToken, { decision: 'approved' });
    await run.done;
    const events = engine.history('history-1');

    // Assess
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => [e.id, e.previousEventId])).toEqual(events.map((_, i) => [i + 1, i]));
    expect(live).toEqual(events.map((e) => `history-1:${e.type}`));
    expect(events[3]?.stateEnteredEventDetails).toMatchObject({ name: 'Notify' });
    expect(JSON.parse(events[3]?.stateEnteredEventDetails?.input ?? '')).toEqual({
      tag: 'v1',
      stages: { staging: {} },
    });
    expect(events[4]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'local',
    });
    expect(JSON.parse(events[4]?.taskScheduledEventDetails?.parameters ?? '')).toMatchObject({
      FunctionName: 'arn:aws:lambda:local:000000000000:function:notify',
      Payload: { event: 'started' },
    });
    expect(events[9]?.taskScheduledEventDetails).toMatchObject({
      resource: 'invoke.waitForTaskToken',
      timeoutInSeconds: 86_400,
    });
    expect(JSON.parse(events[12]?.taskSucceededEventDetails?.output ?? '')).toEqual({ decision: 'approved' });
    expect(JSON.parse(events[14]?.executionSucceededEventDetails?.output ?? '')).toMatchObject({
      approval: { decision: 'approved' },
    });
  });

  it('records each retried attempt, the failure, and the catch', async () => {
    // Prepare
    const engine = engineFor(
      {
        StartAt: 'Notify',
        States: {
          Notify: invoke(
            'notify',
            {},
            {
              Retry: [{ ErrorEquals: ['Lambda.ServiceException'], MaxAttempts: 1 }],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
              End: true,
            },
          ),
          Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
        },
      },
      {
        notify: async () => {
          throw new NamedError('Lambda.ServiceException', 'try again');
        },
      },
    );

    // Act
    const result = await engine.start({}, 'retries').done;
    const events = engine.history('retries');

    // Assess
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
    expect(events[4]?.taskFailedEventDetails).toMatchObject({ error: 'Lambda.ServiceException' });
    expect(events[10]?.executionFailedEventDetails).toEqual({
      error: 'Lambda.ServiceException',
      cause: result.cause,
    });
    expect(result.status).toBe('FAILED');
  });

  it('records TaskTimedOut when a task times out', async () => {
    // Prepare
    const engine = engineFor(
      { StartAt: 'Approve', States: { Approve: approvalTask({ End: true }) } },
      { 'request-approval': async () => ({}) },
      { taskTimeoutsMs: { Approve: 10 } },
    );

    // Act
    const result = await engine.start({}, 'times-out').done;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(engine.history('times-out').map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskTimedOut',
      'ExecutionFailed',
    ]);
  });
});

describe('stopExecution', () => {
  it('aborts a waiting execution: it calls nothing more and its token is closed', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    let notified = 0;
    const engine = engineFor(
      {
        StartAt: 'Approve',
        States: {
          Approve: approvalTask({
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify' }],
            Next: 'Notify',
          }),
          Notify: invoke('notify', {}, { End: true }),
        },
      },
      {
        'request-approval': async (event: ApprovalEvent) => requests.push(event),
        notify: async () => {
          notified += 1;
          return {};
        },
      },
    );
    const run = engine.start({}, 'stopped');
    const { taskToken } = await requests.next();

    // Act
    const stopped = await engine.stopExecution('stopped', { error: 'Operator.Stop', cause: 'wrong image' });

    // Assess
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Operator.Stop', cause: 'wrong image' });
    expect((await run.done).status).toBe('ABORTED');
    expect(engine.history('stopped').at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator.Stop', cause: 'wrong image' },
    });
    await expect(engine.sendTaskSuccess(taskToken, {})).rejects.toMatchObject({ name: 'TaskTimedOut' });
    expect(notified).toBe(0);
  });
});

describe('stop', () => {
  it('aborts every running execution and refuses new ones', async () => {
    // Prepare
    const requests = new Inbox<ApprovalEvent>();
    const engine = engineFor(
      { StartAt: 'Approve', States: { Approve: approvalTask({ End: true }) } },
      { 'request-approval': async (event: ApprovalEvent) => requests.push(event) },
    );
    const run = engine.start({}, 'waiting');
    await requests.next();

    // Act
    await engine.stop();

    // Assess
    expect((await run.done).status).toBe('ABORTED');
    expect(() => engine.start({}, 'after-stop')).toThrow(/the local engine has stopped/);
  });
});

describe('createLocalEngine', () => {
  it('refuses to start without a handler a Task needs, naming the state and the handler', () => {
    expect(() =>
      createLocalEngine({
        template: cdkTemplate({ StartAt: 'Notify', States: { Notify: invoke('notify', {}, { End: true }) } }),
        handlers: {},
      }),
    ).toThrow(
      new LocalDefinitionError(
        'state "Notify" needs the notify handler, which was not given to the local engine',
      ),
    );
  });

  it('refuses a waitForTaskToken task that never passes the token', () => {
    expect(() =>
      createLocalEngine({
        template: cdkTemplate({
          StartAt: 'Approve',
          States: {
            Approve: approvalTask({
              Parameters: { FunctionName: '{{fn:request-approval}}', Payload: {} },
              End: true,
            }),
          },
        }),
        handlers: { 'request-approval': async () => ({}) },
      }),
    ).toThrow(/state "Approve" waits for a task token but its Parameters never pass \$\$.Task.Token/);
  });

  it('refuses a definition the interpreter finds invalid', () => {
    expect(() =>
      createLocalEngine({
        template: cdkTemplate({ StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } }),
        handlers: {},
      }),
    ).toThrow(LocalDefinitionError);
  });
});
