import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CfnTemplate, loadDefinition } from '../../../local/engine/definition.js';
import { LocalDefinitionError } from '../../../local/engine/errors.js';
import { cdkTemplate, invoke } from './template.js';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/cdk-template.json', import.meta.url), 'utf8'),
) as CfnTemplate;

const states = (definition: object) =>
  (definition as { States: Record<string, Record<string, unknown>> }).States;

/** A one-state machine around `state`. */
const single = (state: object) => cdkTemplate({ StartAt: 'Only', States: { Only: { ...state, End: true } } });

function refusal(template: CfnTemplate): string {
  try {
    loadDefinition(template);
  } catch (error) {
    expect(error).toBeInstanceOf(LocalDefinitionError);
    return (error as Error).message;
  }
  throw new Error('expected the definition to be refused');
}

describe('loadDefinition', () => {
  it('resolves the Fn::Join definition to fixed local ARNs and the commit queue URL', () => {
    // Act
    const loaded = loadDefinition(fixture);

    // Assess
    const s = states(loaded.definition);
    expect(s['Notify release started']).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:local:000000000000:function:notify' },
    });
    expect(s['Staging · Commit new tag']).toMatchObject({
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: { QueueUrl: 'https://sqs.local.amazonaws.com/000000000000/shiplane-commit.fifo' },
    });
    expect(s['Production · Await approval']?.Parameters).toMatchObject({
      FunctionName: 'arn:aws:lambda:local:000000000000:function:request-approval',
    });
    expect(loaded.stateMachine).toEqual({
      logicalId: 'promotionstatemachine1C9C8EB8',
      name: 'promotionstatemachine1C9C8EB8',
      arn: 'arn:aws:states:local:000000000000:stateMachine:promotionstatemachine1C9C8EB8',
    });
  });

  it('binds every Task to the handler named by the function or queue metadata', () => {
    // Act
    const { tasks } = loadDefinition(fixture);

    // Assess
    const summary = [...tasks.values()].map((task) => ({
      state: task.state,
      kind: task.kind,
      wait: task.waitForTaskToken,
      handler: task.kind === 'sqs-send' ? task.queue.consumer.function.handler : task.function.handler,
    }));
    expect(summary).toEqual([
      { state: 'Notify release started', kind: 'lambda-invoke', wait: false, handler: 'notify' },
      { state: 'Staging · Commit new tag', kind: 'sqs-send', wait: true, handler: 'committer' },
      { state: 'Staging · Wait for Argo CD', kind: 'lambda-invoke', wait: false, handler: 'argocd-health' },
      {
        state: 'Production · Await approval',
        kind: 'lambda-invoke',
        wait: true,
        handler: 'request-approval',
      },
    ]);
  });

  it('reads the commit queue, its redrive policy and its event source mapping', () => {
    // Act
    const { queues, functions } = loadDefinition(fixture);

    // Assess
    const commit = queues.find((q) => q.role === 'commit');
    expect(commit).toMatchObject({
      name: 'shiplane-commit.fifo',
      arn: 'arn:aws:sqs:local:000000000000:shiplane-commit.fifo',
      fifo: true,
      contentBasedDeduplication: true,
      maxReceiveCount: 3,
      consumer: { batchSize: 10, reportBatchItemFailures: true, function: { handler: 'committer' } },
    });
    expect(functions.find((f) => f.handler === 'argocd-health')).toMatchObject({
      timeoutSeconds: 45,
      memorySizeMb: 512,
    });
    // CloudFormation's defaults when the template leaves them out.
    expect(functions.find((f) => f.handler === 'request-approval')).toMatchObject({
      timeoutSeconds: 3,
      memorySizeMb: 128,
    });
  });

  it('applies DefinitionSubstitutions after resolving them', () => {
    // Prepare
    const template = single(invoke('notify', { event: 'started', 'release.$': '$.release' }));
    const machine = Object.values(template.Resources ?? {}).find(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    const props = machine?.Properties as Record<string, unknown>;
    props.DefinitionString = JSON.stringify({
      StartAt: 'Only',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's substitution syntax, not a template literal.
      States: { Only: { Type: 'Pass', Result: { queue: '${CommitQueue}' }, End: true } },
    });
    props.DefinitionSubstitutions = { CommitQueue: { Ref: 'commitqueueD3327AA2' } };

    // Act
    const loaded = loadDefinition(template);

    // Assess
    expect(states(loaded.definition).Only?.Result).toEqual({
      queue: 'https://sqs.local.amazonaws.com/000000000000/shiplane-commit.fifo',
    });
  });

  it('refuses a state machine that uses JSONata', () => {
    const template = cdkTemplate({
      QueryLanguage: 'JSONata',
      StartAt: 'Only',
      States: { Only: { Type: 'Pass', End: true } },
    });
    expect(refusal(template)).toMatch(/QueryLanguage JSONata.*JSONPath only/);
  });

  it('refuses a single JSONata state and names it', () => {
    const template = single({ Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input %}' });
    expect(refusal(template)).toMatch(/^state "Only" uses QueryLanguage JSONata/);
  });

  it('refuses JSONata-only fields even without QueryLanguage', () => {
    const template = single({ ...invoke('notify', {}), Arguments: { FunctionName: 'x' } });
    expect(refusal(template)).toMatch(/state "Only" has Arguments, a JSONata field/);
  });

  it('refuses Assign on a state and names the state', () => {
    const template = single({ Type: 'Pass', Assign: { attempt: 1 } });
    expect(refusal(template)).toMatch(/^state "Only" uses Assign/);
  });

  it('refuses Assign inside a Catch', () => {
    const template = single(
      invoke(
        'notify',
        {},
        { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Only', Assign: { failed: true } }] },
      ),
    );
    expect(refusal(template)).toMatch(/^state "Only" uses Assign/);
  });

  it('refuses a Task on a resource with no local handler', () => {
    const template = single({
      Type: 'Task',
      Resource: 'arn:{{partition}}:states:::dynamodb:putItem',
      Parameters: { TableName: 'approvals', Item: {} },
    });
    expect(refusal(template)).toMatch(
      /^state "Only" calls arn:aws:states:::dynamodb:putItem .*no local handler; nothing may call AWS from a local run/,
    );
  });

  it('refuses a Lambda Task on a function that has no shiplane:handler metadata', () => {
    // Prepare
    const template = single(invoke('notify', {}));
    const resources = template.Resources as Record<string, { Metadata?: Record<string, unknown> }>;
    delete resources.notifyfunctionD2A6B1F4?.Metadata?.['shiplane:handler'];

    // Act / Assess
    expect(refusal(template)).toMatch(
      /state "Only" calls .* on arn:aws:lambda:local:000000000000:function:notifyfunctionD2A6B1F4/,
    );
  });

  it('refuses a FunctionName computed at run time', () => {
    const template = single({
      Type: 'Task',
      Resource: 'arn:{{partition}}:states:::lambda:invoke',
      Parameters: { 'FunctionName.$': '$.fn', Payload: {} },
    });
    expect(refusal(template)).toMatch(/state "Only" computes its FunctionName at run time/);
  });

  it('refuses a handler name in metadata that is not a Shiplane handler', () => {
    const template = single(invoke('notify', {}));
    const resources = template.Resources as Record<string, { Metadata?: Record<string, unknown> }>;
    resources.notifyfunctionD2A6B1F4!.Metadata!['shiplane:handler'] = 'notifier';
    expect(refusal(template)).toMatch(/shiplane:handler: "notifier", which is not a handler/);
  });

  it('refuses a template without a state machine, or with several and no choice', () => {
    expect(refusal({ Resources: {} })).toMatch(/no AWS::StepFunctions::StateMachine/);
    const two = cdkTemplate({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } });
    const resources = two.Resources as Record<string, unknown>;
    resources.second = resources.promotionstatemachine1C9C8EB8;
    expect(refusal(two)).toMatch(/2 state machines \(promotionstatemachine1C9C8EB8, second\); say which one/);
    expect(loadDefinition(two, { stateMachine: 'second' }).stateMachine.name).toBe('second');
  });

  it('refuses an intrinsic it cannot resolve, naming where it is', () => {
    const template = cdkTemplate({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } });
    const machine = (template.Resources as Record<string, { Properties: Record<string, unknown> }>)
      .promotionstatemachine1C9C8EB8!;
    machine.Properties.DefinitionString = { 'Fn::ImportValue': 'shared-definition' };
    expect(refusal(template)).toMatch(
      /promotionstatemachine1C9C8EB8.DefinitionString: cannot resolve Fn::ImportValue/,
    );
  });
});
