import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalEngine, engineRunStatus, type LocalEngine } from '../../../local/engine/index.js';
import { Inbox } from './inbox.js';
import { cdkTemplate } from './template.js';

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

/** An engine whose runs wait an hour (RUNNING until stopped) or pass straight through. */
function engineWith(definition: object): LocalEngine {
  const engine = createLocalEngine({ template: cdkTemplate(definition), handlers: {} });
  engines.push(engine);
  return engine;
}

const INPUT = { release: { app: 'backend', tag: 'v2.1.6' } };

describe('engineRunStatus', () => {
  it("answers a run's status and input from the engine's own executions", async () => {
    const engine = engineWith({
      StartAt: 'Hold',
      States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } },
    });
    const runs = engineRunStatus(() => engine);
    engine.start(INPUT, 'backend-v2.1.6-aaaaaaaaaaaa');

    expect(await runs.describe('backend-v2.1.6-aaaaaaaaaaaa')).toEqual({ status: 'RUNNING', input: INPUT });

    await engine.stopExecution('backend-v2.1.6-aaaaaaaaaaaa');
    expect(await runs.describe('backend-v2.1.6-aaaaaaaaaaaa')).toEqual({ status: 'ABORTED', input: INPUT });
  });

  it('reports a finished run as such, and no run for an unknown name or an ARN', async () => {
    const engine = engineWith({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } });
    const runs = engineRunStatus(() => engine);
    await engine.start(INPUT, 'backend-v2.1.6-bbbbbbbbbbbb').done;

    expect(await runs.describe('backend-v2.1.6-bbbbbbbbbbbb')).toEqual({ status: 'SUCCEEDED', input: INPUT });
    expect(await runs.describe('backend-v9.9.9-000000000000')).toBeUndefined();
    expect(
      await runs.describe(`${engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:x`),
    ).toBeUndefined();
  });
});

/** A commit state rendering a whole commit request from the run's input, as the synthesized one does. */
const commitState = (rest: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:{{partition}}:states:::sqs:sendMessage.waitForTaskToken',
  Parameters: {
    QueueUrl: '{{queue:commit}}',
    MessageGroupId: 'itdo-erp/itdo-erp-infrastructure#main',
    MessageBody: {
      'taskToken.$': '$$.Task.Token',
      'execution.$': '$$.Execution.Name',
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
      change: {
        kind: 'image',
        edit: 'promotion',
        stage: 'staging',
        file: 'environments/staging/kustomization.yaml',
        'release.$': '$.release',
        pinDigest: true,
        createIfMissing: false,
      },
    },
  },
  TimeoutSeconds: 900,
  ResultPath: '$.commit',
  ...rest,
});

const RELEASE = {
  app: 'backend',
  ecrRepository: 'itdo-erp/backend',
  image: 'itdo-erp/backend',
  tag: 'v2.1.6',
  digest: `sha256:${'4c'.repeat(32)}`,
  registryId: '123456789012',
  region: 'ap-northeast-1',
  pushedAt: '2026-11-26T13:40:01Z',
};

describe('engineRunStatus.pendingCommit', () => {
  it('is the body the engine sent for the parked commit task, already when its consumer receives it', async () => {
    const seen: unknown[] = [];
    let engine: LocalEngine | undefined;
    let runs: ReturnType<typeof engineRunStatus> | undefined;
    engine = createLocalEngine({
      template: cdkTemplate({ StartAt: 'Commit', States: { Commit: commitState({ End: true }) } }),
      handlers: {
        committer: async (event: SQSEvent) => {
          for (const record of event.Records) {
            const body = JSON.parse(record.body) as { taskToken: string; execution: string };
            // Asked on delivery, before the interpreter's event log may have placed TaskScheduled.
            seen.push(await runs?.pendingCommit(body.execution), body);
            await engine?.taskTokens.succeed(body.taskToken, { commit: 'a'.repeat(40), status: 'committed' });
          }
          return { batchItemFailures: [] };
        },
      },
    });
    engines.push(engine);
    runs = engineRunStatus(() => engine as LocalEngine);

    const result = await engine.start({ release: RELEASE }, 'backend-v2.1.6-cccccccccccc').done;

    expect(result.status).toBe('SUCCEEDED');
    const [pending, body] = seen;
    expect(pending).toEqual({ kind: 'rendered', request: body });
    expect(body).toMatchObject({ taskToken: expect.stringMatching(/^local:/), change: { release: RELEASE } });
    // The same text as the TaskScheduled event the history now holds.
    const scheduled = engine
      .history('backend-v2.1.6-cccccccccccc')
      .find((event) => event.type === 'TaskScheduled')?.taskScheduledEventDetails;
    expect(JSON.parse(scheduled?.parameters ?? '{}').MessageBody).toEqual(body);
    expect(await runs.pendingCommit('backend-v2.1.6-cccccccccccc')).toBeUndefined();
  });

  it('is undefined while the run waits for an approval, after its commit task timed out, and for no run', async () => {
    const approvals = new Inbox<{ taskToken: string }>();
    const engine = createLocalEngine({
      template: cdkTemplate({
        StartAt: 'Commit',
        States: {
          Commit: commitState({
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Await approval' }],
            Next: 'Await approval',
          }),
          'Await approval': {
            Type: 'Task',
            Resource: 'arn:{{partition}}:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              FunctionName: '{{fn:request-approval}}',
              Payload: { 'taskToken.$': '$$.Task.Token' },
            },
            End: true,
          },
        },
      }),
      // Nobody answers the commit; the approval task parks until the test answers it.
      handlers: {
        committer: async () => ({ batchItemFailures: [] }),
        'request-approval': async (event: unknown) => {
          approvals.push(event as { taskToken: string });
          return {};
        },
      },
      timing: { taskTimeoutsMs: { Commit: 50 } },
    });
    engines.push(engine);
    const runs = engineRunStatus(() => engine);
    const execution = engine.start({ release: RELEASE }, 'backend-v2.1.6-dddddddddddd');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await runs.pendingCommit(execution.name)).toMatchObject({ kind: 'rendered' });

    const approval = await approvals.next();

    expect(engine.waitingTasks(execution.name)).toEqual([
      expect.objectContaining({ resourceType: 'lambda', resource: 'invoke.waitForTaskToken' }),
    ]);
    expect(await runs.pendingCommit(execution.name)).toBeUndefined();
    await engine.sendTaskSuccess(approval.taskToken, {});
    expect((await execution.done).status).toBe('SUCCEEDED');
    expect(await runs.pendingCommit('backend-v9.9.9-000000000000')).toBeUndefined();
    expect(await runs.pendingCommit(`${engine.stateMachineArn}:x`)).toBeUndefined();
  });
});
