import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { manualRollbackStateNames } from '../../../infra/constructs/promotion-definition.js';
import { rollbackStateNames } from '../../../infra/constructs/rollback-states.js';
import { LAMBDA_TRANSIENT_ERRORS } from '../../../infra/constructs/task-retries.js';
import { type CloudFormationTemplate, synthesizeTemplate } from '../../../infra/synth.js';
import {
  type AslDefinition,
  configWith,
  definitionOf,
  exampleConfig,
  handlerOfArn,
  type Json,
  reachableStates,
  resourcesOf,
} from '../support.js';

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };
// asl-validator ships CommonJS without type declarations.
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const STAGING = [
  'Staging · Commit new tag',
  'Staging · Notify superseded',
  'Staging · Notify committed',
  'Staging · Start Argo CD wait',
  'Staging · Wait for Argo CD',
  'Staging · Healthy?',
  'Staging · Poll again',
  'Staging · Count poll',
  'Staging · Degraded',
  'Staging · Timed out',
  'Staging · Notify timed out',
  'Staging · Notify healthy',
  'Staging · Newer release there',
  'Staging · Release replaced',
  ...Object.values(rollbackStateNames('Staging')),
];
const PRODUCTION_APPROVAL = [
  'Production · Await approval',
  'Production · Notify rejected',
  'Production · Notify expired',
  'Production · Notify approved',
  'Production · Approved?',
  'Production · Not approved',
  'Production · No approver',
];
/**
 * A stage's manual rollback path (`shiplane rollback`): all its states, or those without the approval;
 * never the pull-request loop's (the names exist for every stage, the states only where a stage has
 * `pullRequest`, which the example config has not).
 */
const manualRollback = (stage: string, approval: boolean) =>
  Object.entries(manualRollbackStateNames(stage))
    .filter(([key]) => approval || !/approv|rejected|expired/i.test(key))
    .filter(([, name]) => !/pull request/i.test(name))
    .map(([, name]) => name);
const RUN = [
  'Prepare',
  'Notify release started',
  'Release or manual rollback?',
  'Manual rollback of an unknown stage',
  'Notify deployed',
  'Deployed',
  'Superseded',
  'Notify failed',
  'Failed',
  'Rolled back',
];

describe('the promotion state machine of the example config', () => {
  let template: CloudFormationTemplate;
  let definition: AslDefinition;
  const states = () => definition.States;
  const state = (name: string) => {
    const found = definition.States[name];
    if (!found) throw new Error(`no state ${name}`);
    return found;
  };

  beforeAll(() => {
    template = synthesizeTemplate(exampleConfig);
    definition = definitionOf(template);
  });

  it('is a Standard workflow with JSONPath only', () => {
    const [[, machine]] = resourcesOf(template, 'AWS::StepFunctions::StateMachine') as [[string, Json]];
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    expect(definition.QueryLanguage).toBeUndefined();
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/JSONata|"Assign"|\{%/);
  });

  it('has exactly the states the spec names, all reachable', () => {
    const production = STAGING.map((name) => name.replace('Staging', 'Production'));
    const expected = [
      ...RUN,
      ...STAGING,
      ...PRODUCTION_APPROVAL,
      ...production,
      ...manualRollback('staging', false),
      ...manualRollback('production', true),
      'Rejected',
      'Approval expired',
    ];
    expect(Object.keys(states()).sort()).toEqual([...expected].sort());
    expect([...reachableStates(definition)].sort()).toEqual([...expected].sort());
  });

  it('starts by preparing a slot for every stage and announcing the release', () => {
    expect(definition.StartAt).toBe('Prepare');
    expect(state('Prepare')).toEqual({
      Type: 'Pass',
      Result: { staging: {}, production: {} },
      ResultPath: '$.stages',
      Next: 'Notify release started',
    });
    expect(state('Notify release started').Parameters?.Payload).toEqual({
      event: 'started',
      'execution.$': '$$.Execution.Name',
      'release.$': '$.release',
      // The whole input, so the thread can say a run is a retry (`retryOf`) or a manual rollback
      // (`rollback`) without a state reading a path that may be absent.
      'detail.$': '$',
    });
    expect(state('Notify release started').Next).toBe('Release or manual rollback?');
  });

  it("routes a release to the first stage and a manual rollback to its own stage's path only", () => {
    expect(state('Release or manual rollback?')).toEqual({
      Type: 'Choice',
      Choices: [
        { Not: { Variable: '$.rollback', IsPresent: true }, Next: 'Staging · Commit new tag' },
        {
          Not: { Variable: '$.rollback.stage', IsPresent: true },
          Next: 'Manual rollback of an unknown stage',
        },
        {
          Not: { Variable: '$.rollback.stage', IsString: true },
          Next: 'Manual rollback of an unknown stage',
        },
        { Variable: '$.rollback.stage', StringEquals: 'staging', Next: 'Staging · Commit manual rollback' },
        {
          Variable: '$.rollback.stage',
          StringEquals: 'production',
          Next: 'Production · Await manual rollback approval',
        },
      ],
      Default: 'Manual rollback of an unknown stage',
    });
    expect(state('Manual rollback of an unknown stage')).toEqual({
      Type: 'Pass',
      Parameters: {
        Error: 'Shiplane.RollbackInvalid',
        Cause:
          'the run asks to roll back a stage this state machine does not have (it has staging, production); nothing was changed',
      },
      ResultPath: '$.error',
      Next: 'Notify failed',
    });
  });

  it('says in every commit which edit it is, agreeing with the fields the committer would infer it from', () => {
    const commits = Object.entries(states()).filter(
      ([, s]) => s.Resource === 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
    );
    // Promotion, rollback and manual rollback, for each of the two stages.
    expect(commits).toHaveLength(6);
    const edits = commits.map(([name, s]) => {
      const change = s.Parameters?.MessageBody.change;
      const fields = Object.keys(change);
      const inferred = fields.includes('rollback')
        ? 'rollback'
        : fields.includes('manualRollback.$')
          ? 'manual-rollback'
          : 'promotion';
      expect(change.edit, name).toBe(inferred);
      return `${name}: ${change.edit}`;
    });
    expect(edits.sort()).toEqual([
      'Production · Commit manual rollback: manual-rollback',
      'Production · Commit new tag: promotion',
      'Production · Commit rollback: rollback',
      'Staging · Commit manual rollback: manual-rollback',
      'Staging · Commit new tag: promotion',
      'Staging · Commit rollback: rollback',
    ]);
  });

  it('commits a manual rollback through the same queue, marked with the run input it was asked with', () => {
    const commit = state('Staging · Commit manual rollback');
    expect(commit.Resource).toBe('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
    expect(commit.Parameters?.MessageGroupId).toBe('itdo-erp/itdo-erp-infrastructure#main');
    expect(commit.Parameters?.QueueUrl).toEqual(state('Staging · Commit new tag').Parameters?.QueueUrl);
    expect(commit.Parameters?.MessageBody.change).toEqual({
      kind: 'image',
      edit: 'manual-rollback',
      stage: 'staging',
      file: 'environments/staging/kustomization.yaml',
      'release.$': '$.release',
      pinDigest: true,
      createIfMissing: false,
      'manualRollback.$': '$.rollback',
    });
    expect(commit.ResultPath).toBe('$.stages.staging.commit');
    expect(commit.Catch).toEqual([
      {
        ErrorEquals: ['Shiplane.Superseded'],
        ResultPath: '$.error',
        Next: 'Staging · Notify manual rollback superseded',
      },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify failed' },
    ]);
    expect(commit.Next).toBe('Staging · Notify manual rollback committed');
    expect(state('Staging · Notify manual rollback committed').Next).toBe(
      'Staging · Start manual rollback wait',
    );
    expect(state('Staging · Wait for manual rollback').Parameters?.Payload).toMatchObject({
      stage: 'staging',
      'commit.$': '$.stages.staging.commit.commit',
      'release.$': '$.release',
      pinDigest: true,
    });
  });

  it('asks for approval before a production rollback, marked as a rollback, with the same rules as a promotion', () => {
    const approval = state('Production · Await manual rollback approval');
    expect(approval.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(handlerOfArn(template, approval.Parameters?.FunctionName)).toBe('request-approval');
    expect(approval.TimeoutSeconds).toBe(24 * 3600);
    expect(approval.Parameters?.Payload).toEqual({
      'taskToken.$': '$$.Task.Token',
      'execution.$': '$$.Execution.Name',
      stage: 'production',
      'release.$': '$.release',
      approvers: ['U0PLATFORM1', 'S0PLATFORMGRP'],
      timeoutSeconds: 86400,
      'stages.$': '$.stages',
      'rollback.$': '$.rollback',
    });
    expect(approval.Catch?.map((c) => [c.ErrorEquals[0], c.Next])).toEqual([
      ['Shiplane.Rejected', 'Production · Notify manual rollback rejected'],
      ['States.Timeout', 'Production · Notify manual rollback expired'],
      ['Shiplane.Superseded', 'Production · Notify manual rollback superseded'],
      ['States.ALL', 'Notify failed'],
    ]);
    expect(approval.Next).toBe('Production · Manual rollback approved?');
    expect(state('Production · Manual rollback approved?').Choices?.at(-1)?.Next).toBe(
      'Production · Notify manual rollback approved',
    );
    expect(state('Production · Notify manual rollback approved').Next).toBe(
      'Production · Commit manual rollback',
    );
    expect(state('Production · Notify manual rollback rejected').Next).toBe('Rejected');
    expect(state('Production · Notify manual rollback expired').Next).toBe('Approval expired');
  });

  it('ends a healthy manual rollback Deployed without touching another stage, and a degraded one Failed, never rolling back again', () => {
    expect(state('Staging · Notify manual rollback healthy').Next).toBe('Notify deployed');
    expect(state('Production · Notify manual rollback healthy').Next).toBe('Notify deployed');
    expect(state('Staging · Manual rollback degraded').Next).toBe(
      'Staging · Notify manual rollback degraded',
    );
    expect(state('Staging · Notify manual rollback degraded').Next).toBe('Failed');
    expect(state('Staging · Manual rollback timed out').Next).toBe(
      'Staging · Notify manual rollback timed out',
    );
    expect(state('Staging · Notify manual rollback timed out').Next).toBe('Failed');
    expect(state('Staging · Newer release over manual rollback').Next).toBe(
      'Staging · Notify manual rollback superseded',
    );
    expect(state('Staging · Manual rollback replaced').Next).toBe('Notify failed');
  });

  it('puts a Catch on every Task', () => {
    const tasks = Object.entries(states()).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(10);
    for (const [name, task] of tasks) {
      expect(
        task.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')),
        name,
      ).toBe(true);
    }
  });

  it('waits for approval with the configured timeout and routes each outcome', () => {
    const approval = state('Production · Await approval');
    expect(approval.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(handlerOfArn(template, approval.Parameters?.FunctionName)).toBe('request-approval');
    expect(approval.TimeoutSeconds).toBe(24 * 3600);
    expect(approval.ResultPath).toBe('$.stages.production.approval');
    expect(approval.Parameters?.Payload).toEqual({
      'taskToken.$': '$$.Task.Token',
      'execution.$': '$$.Execution.Name',
      stage: 'production',
      'release.$': '$.release',
      approvers: ['U0PLATFORM1', 'S0PLATFORMGRP'],
      timeoutSeconds: 86400,
      'stages.$': '$.stages',
    });
    expect(approval.Retry).toEqual([
      { ErrorEquals: LAMBDA_TRANSIENT_ERRORS, IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 },
    ]);
    expect(approval.Catch).toEqual([
      { ErrorEquals: ['Shiplane.Rejected'], ResultPath: '$.error', Next: 'Production · Notify rejected' },
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Production · Notify expired' },
      // A newer release of the app awaiting approval here supersedes this run (request-approval).
      { ErrorEquals: ['Shiplane.Superseded'], ResultPath: '$.error', Next: 'Production · Notify superseded' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify failed' },
    ]);
    expect(approval.Next).toBe('Production · Approved?');
    expect(state('Production · Notify approved').Next).toBe('Production · Commit new tag');
    expect(state('Production · Notify approved').Parameters?.Payload['detail.$']).toBe(
      '$.stages.production.approval',
    );
    expect(state('Production · Notify rejected').Next).toBe('Rejected');
    expect(state('Production · Notify rejected').Parameters?.Payload['detail.$']).toBe('$.error');
    expect(state('Production · Notify expired').Next).toBe('Approval expired');
  });

  it('goes on to production only when the approval says decision: approved and names who approved', () => {
    const decision = { Variable: '$.stages.production.approval.decision' };
    const by = { Variable: '$.stages.production.approval.by' };
    expect(state('Production · Approved?')).toEqual({
      Type: 'Choice',
      Choices: [
        { Not: { ...decision, IsPresent: true }, Next: 'Production · Not approved' },
        { Not: { ...decision, IsString: true }, Next: 'Production · Not approved' },
        { Not: { ...decision, StringEquals: 'approved' }, Next: 'Production · Not approved' },
        { Not: { ...by, IsPresent: true }, Next: 'Production · No approver' },
        { Not: { ...by, IsString: true }, Next: 'Production · No approver' },
        {
          And: [{ ...decision, StringEquals: 'approved' }, { Not: { ...by, StringEquals: '' } }],
          Next: 'Production · Notify approved',
        },
      ],
      Default: 'Production · No approver',
    });
    expect(state('Production · Not approved')).toEqual({
      Type: 'Pass',
      Parameters: {
        Error: 'Shiplane.ApprovalInvalid',
        Cause: 'Production · Await approval answered without decision: approved; production was not changed',
      },
      ResultPath: '$.error',
      Next: 'Notify failed',
    });
    expect(state('Production · No approver')).toEqual({
      Type: 'Pass',
      Parameters: {
        Error: 'Shiplane.ApprovalInvalid',
        Cause:
          'Production · Await approval answered approved without an approver (by); production was not changed',
      },
      ResultPath: '$.error',
      Next: 'Notify failed',
    });
  });

  it('commits through the FIFO commit queue and waits for the committer', () => {
    const commit = state('Staging · Commit new tag');
    expect(commit.Resource).toBe('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
    const [queueId] = Object.entries(template.Resources).find(
      ([, r]: [string, Json]) => r.Metadata?.['shiplane:queue'] === 'commit',
    )!;
    expect(commit.Parameters?.QueueUrl).toContain(`/${queueId}`);
    expect(commit.Parameters?.MessageGroupId).toBe('itdo-erp/itdo-erp-infrastructure#main');
    expect(commit.Parameters?.MessageBody).toEqual({
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
    });
    expect(commit.TimeoutSeconds).toBe(900);
    expect(commit.ResultPath).toBe('$.stages.staging.commit');
    expect(commit.Retry).toEqual([
      {
        ErrorEquals: ['States.Timeout', 'SQS.SdkClientException', 'SQS.AmazonSQSException'],
        IntervalSeconds: 5,
        MaxAttempts: 3,
        BackoffRate: 2,
      },
    ]);
    expect(commit.Catch).toEqual([
      { ErrorEquals: ['Shiplane.Superseded'], ResultPath: '$.error', Next: 'Staging · Notify superseded' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify failed' },
    ]);
    expect(state('Staging · Notify superseded').Parameters?.Payload).toEqual({
      event: 'superseded',
      'execution.$': '$$.Execution.Name',
      'release.$': '$.release',
      stage: 'staging',
      'detail.$': '$.error',
    });
    expect(state('Staging · Notify superseded').Next).toBe('Superseded');
    expect(state('Production · Commit new tag').Catch?.[0]).toEqual({
      ErrorEquals: ['Shiplane.Superseded'],
      ResultPath: '$.error',
      Next: 'Production · Notify superseded',
    });
    expect(commit.Next).toBe('Staging · Notify committed');
    expect(state('Staging · Notify committed').Next).toBe('Staging · Start Argo CD wait');
  });

  it('polls Argo CD a bounded number of times (healthTimeout / pollInterval)', () => {
    expect(state('Staging · Start Argo CD wait')).toEqual({
      Type: 'Pass',
      Result: { attempt: 1, maxAttempts: 90 },
      ResultPath: '$.stages.staging.poll',
      Next: 'Staging · Wait for Argo CD',
    });
    const check = state('Staging · Wait for Argo CD');
    expect(check.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(handlerOfArn(template, check.Parameters?.FunctionName)).toBe('argocd-health');
    expect(check.Parameters?.Payload).toEqual({
      'execution.$': '$$.Execution.Name',
      stage: 'staging',
      argocdApp: 'itdo-erp-staging',
      sync: false,
      'commit.$': '$.stages.staging.commit.commit',
      'release.$': '$.release',
      file: 'environments/staging/kustomization.yaml',
      pinDigest: true,
      'attempt.$': '$.stages.staging.poll.attempt',
      maxAttempts: 90,
    });
    expect(check.ResultSelector).toEqual({
      'status.$': '$.Payload.status',
      'message.$': '$.Payload.message',
      'revision.$': '$.Payload.revision',
      'syncStatus.$': '$.Payload.syncStatus',
      'healthStatus.$': '$.Payload.healthStatus',
      'checkedAt.$': '$.Payload.checkedAt',
      'attempt.$': '$.Payload.attempt',
    });
    expect(check.ResultPath).toBe('$.stages.staging.health');
    expect(check.Retry).toEqual([
      { ErrorEquals: LAMBDA_TRANSIENT_ERRORS, IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 },
    ]);
    expect(check.Next).toBe('Staging · Healthy?');
    expect(state('Staging · Healthy?')).toEqual({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.stages.staging.health.status',
          StringEquals: 'healthy',
          Next: 'Staging · Notify healthy',
        },
        { Variable: '$.stages.staging.health.status', StringEquals: 'degraded', Next: 'Staging · Degraded' },
        {
          Variable: '$.stages.staging.health.status',
          StringEquals: 'superseded',
          Next: 'Staging · Newer release there',
        },
        {
          Variable: '$.stages.staging.health.status',
          StringEquals: 'replaced',
          Next: 'Staging · Release replaced',
        },
        {
          Variable: '$.stages.staging.poll.attempt',
          NumericGreaterThanEqualsPath: '$.stages.staging.poll.maxAttempts',
          Next: 'Staging · Timed out',
        },
      ],
      Default: 'Staging · Poll again',
    });
    expect(state('Staging · Poll again')).toEqual({
      Type: 'Wait',
      Seconds: 10,
      Next: 'Staging · Count poll',
    });
    expect(state('Staging · Count poll')).toEqual({
      Type: 'Pass',
      Parameters: { 'attempt.$': 'States.MathAdd($.stages.staging.poll.attempt, 1)', maxAttempts: 90 },
      ResultPath: '$.stages.staging.poll',
      Next: 'Staging · Wait for Argo CD',
    });
  });

  it('rolls back on Degraded, and on a health timeout with the app Degraded, with an error a person can read', () => {
    expect(state('Staging · Degraded')).toEqual({
      Type: 'Pass',
      Parameters: {
        Error: 'Shiplane.Degraded',
        'Cause.$':
          "States.Format('staging is Degraded at {}: {}', $.stages.staging.health.revision, $.stages.staging.health.message)",
      },
      ResultPath: '$.error',
      Next: 'Staging · Roll back?',
    });
    expect(state('Staging · Timed out').Parameters).toEqual({
      Error: 'Shiplane.HealthTimeout',
      'Cause.$':
        "States.Format('staging still {} after 15m: {}', $.stages.staging.health.healthStatus, $.stages.staging.health.message)",
    });
    expect(state('Staging · Timed out').Next).toBe('Staging · Degraded at timeout?');
    expect(state('Staging · Degraded at timeout?')).toEqual({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.stages.staging.health.healthStatus',
          StringEquals: 'Degraded',
          Next: 'Staging · Roll back?',
        },
      ],
      Default: 'Staging · Notify timed out',
    });
    expect(state('Staging · Notify timed out').Parameters?.Payload.event).toBe('timed-out');
    expect(state('Staging · Notify timed out').Next).toBe('Failed');
  });

  it('ends Superseded when a newer release replaced ours in the stage, and fails when anything else did', () => {
    expect(state('Staging · Newer release there')).toEqual({
      Type: 'Pass',
      Parameters: { Error: 'Shiplane.Superseded', 'Cause.$': '$.stages.staging.health.message' },
      ResultPath: '$.error',
      Next: 'Staging · Notify superseded',
    });
    expect(state('Staging · Notify superseded').Next).toBe('Superseded');
    expect(state('Production · Release replaced')).toEqual({
      Type: 'Pass',
      Parameters: { Error: 'Shiplane.Replaced', 'Cause.$': '$.stages.production.health.message' },
      ResultPath: '$.error',
      Next: 'Notify failed',
    });
    expect(state('Notify failed').Next).toBe('Failed');
  });

  it('rolls back to the entry the stage pinned before, or says why the stage is left degraded', () => {
    const commit = '$.stages.staging.commit';
    expect(state('Staging · Roll back?')).toEqual({
      Type: 'Choice',
      Choices: [
        {
          Or: [
            { Not: { Variable: `${commit}.previousTag`, IsPresent: true } },
            { Variable: `${commit}.previousTag`, IsNull: true },
          ],
          Next: 'Staging · Nothing to roll back to',
        },
        {
          Variable: `${commit}.previousTag`,
          StringEqualsPath: '$.release.tag',
          Next: 'Staging · Nothing to roll back to',
        },
        {
          Not: { Variable: `${commit}.previousDigest`, IsPresent: true },
          Next: 'Staging · Plan rollback to tag',
        },
        {
          Variable: `${commit}.previousDigest`,
          IsString: true,
          Next: 'Staging · Plan rollback to tag and digest',
        },
      ],
      Default: 'Staging · Plan rollback to tag',
    });
    expect(state('Staging · Plan rollback to tag and digest')).toEqual({
      Type: 'Pass',
      Parameters: {
        target: { 'tag.$': `${commit}.previousTag`, 'digest.$': `${commit}.previousDigest` },
        pinDigest: true,
        'error.$': '$.error.Error',
        'reason.$': '$.error.Cause',
      },
      ResultPath: '$.stages.staging.rollback',
      Next: 'Staging · Notify rolling back',
    });
    expect(state('Staging · Plan rollback to tag').Parameters).toMatchObject({
      target: { 'tag.$': `${commit}.previousTag` },
      pinDigest: false,
    });
    expect(state('Staging · Notify rolling back').Parameters?.Payload).toMatchObject({
      event: 'rolling-back',
      stage: 'staging',
      'detail.$': '$.stages.staging.rollback',
    });
    expect(state('Staging · Notify rolling back').Next).toBe('Staging · Commit rollback');
    expect(state('Staging · Nothing to roll back to')).toEqual({
      Type: 'Pass',
      Parameters: {
        'Error.$': '$.error.Error',
        'Cause.$':
          "States.Format('{}; staging is left degraded on {}: it pinned no earlier release of {} to roll back to', $.error.Cause, $.release.tag, $.release.app)",
      },
      ResultPath: '$.error',
      Next: 'Staging · Notify left degraded',
    });
    expect(state('Staging · Notify left degraded').Parameters?.Payload).toMatchObject({
      event: 'failed',
      stage: 'staging',
      'detail.$': '$.error',
    });
    expect(state('Staging · Notify left degraded').Next).toBe('Failed');
  });

  it('commits the rollback through the same queue and message group, marked as the rollback of this run', () => {
    const commit = state('Staging · Commit rollback');
    expect(commit.Resource).toBe('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
    expect(commit.Parameters?.QueueUrl).toEqual(state('Staging · Commit new tag').Parameters?.QueueUrl);
    expect(commit.Parameters?.MessageGroupId).toBe('itdo-erp/itdo-erp-infrastructure#main');
    expect(commit.Parameters?.MessageBody).toEqual({
      'taskToken.$': '$$.Task.Token',
      'execution.$': '$$.Execution.Name',
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
      change: {
        kind: 'image',
        edit: 'rollback',
        stage: 'staging',
        file: 'environments/staging/kustomization.yaml',
        'release.$':
          'States.JsonMerge(States.StringToJson(States.JsonToString($.release)), $.stages.staging.rollback.target, false)',
        'pinDigest.$': '$.stages.staging.rollback.pinDigest',
        createIfMissing: false,
        rollback: {
          'of.$': '$$.Execution.Name',
          'fromTag.$': '$.release.tag',
          'fromDigest.$': '$.release.digest',
          'reason.$': '$.stages.staging.rollback.reason',
        },
      },
    });
    expect(commit.TimeoutSeconds).toBe(900);
    expect(commit.ResultPath).toBe('$.stages.staging.rollback.commit');
    expect(commit.Retry).toEqual(state('Staging · Commit new tag').Retry);
    expect(commit.Catch).toEqual([
      {
        ErrorEquals: ['Shiplane.Superseded'],
        ResultPath: '$.error',
        Next: 'Staging · Notify rollback superseded',
      },
      {
        ErrorEquals: ['States.ALL'],
        ResultPath: '$.stages.staging.rollback.failure',
        Next: 'Staging · Rollback failed',
      },
    ]);
    expect(state('Staging · Notify rollback superseded').Next).toBe('Superseded');
    expect(commit.Next).toBe('Staging · Start rollback wait');
  });

  it('waits for Argo CD at the rollback commit with the same check, and ends Rolled back or left degraded', () => {
    const rb = '$.stages.staging.rollback';
    const check = state('Staging · Wait for rollback');
    expect(handlerOfArn(template, check.Parameters?.FunctionName)).toBe('argocd-health');
    expect(check.Parameters?.Payload).toEqual({
      ...state('Staging · Wait for Argo CD').Parameters?.Payload,
      'commit.$': `${rb}.commit.commit`,
      'attempt.$': `${rb}.poll.attempt`,
      // The file must pin the rollback's entry: the earlier tag (and digest) over a copy of the release.
      'release.$': `States.JsonMerge(States.StringToJson(States.JsonToString($.release)), ${rb}.target, false)`,
      pinDigest: undefined,
      'pinDigest.$': `${rb}.pinDigest`,
    });
    expect(check.ResultSelector).toEqual(state('Staging · Wait for Argo CD').ResultSelector);
    expect(check.ResultPath).toBe(`${rb}.health`);
    expect(check.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: `${rb}.failure`, Next: 'Staging · Rollback failed' },
    ]);
    expect(state('Staging · Rolled back?')).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: `${rb}.health.status`, StringEquals: 'healthy', Next: 'Staging · Record rollback' },
        { Variable: `${rb}.health.status`, StringEquals: 'degraded', Next: 'Staging · Rollback degraded' },
        {
          Variable: `${rb}.health.status`,
          StringEquals: 'superseded',
          Next: 'Staging · Newer release over rollback',
        },
        { Variable: `${rb}.health.status`, StringEquals: 'replaced', Next: 'Staging · Rollback replaced' },
        {
          Variable: `${rb}.poll.attempt`,
          NumericGreaterThanEqualsPath: `${rb}.poll.maxAttempts`,
          Next: 'Staging · Rollback timed out',
        },
      ],
      Default: 'Staging · Poll rollback again',
    });
    expect(state('Staging · Newer release over rollback').Next).toBe('Staging · Notify rollback superseded');
    expect(state('Staging · Rollback replaced')).toMatchObject({
      Parameters: { Error: 'Shiplane.Replaced', 'Cause.$': `${rb}.health.message` },
      ResultPath: `${rb}.failure`,
      Next: 'Staging · Rollback failed',
    });
    expect(state('Staging · Record rollback')).toEqual({
      Type: 'Pass',
      Parameters: {
        Error: 'Shiplane.RolledBack',
        'Cause.$': `States.Format('staging was rolled back from {} to {} at {}: {}', $.release.tag, ${rb}.target.tag, ${rb}.commit.commit, ${rb}.reason)`,
      },
      ResultPath: '$.error',
      Next: 'Staging · Notify rolled back',
    });
    expect(state('Staging · Notify rolled back').Parameters?.Payload).toMatchObject({
      event: 'rolled-back',
      stage: 'staging',
      'detail.$': rb,
    });
    expect(state('Staging · Notify rolled back').Next).toBe('Rolled back');
    expect(state('Rolled back')).toEqual({
      Type: 'Fail',
      Error: 'Shiplane.RolledBack',
      CausePath: '$.error.Cause',
    });
    expect(state('Staging · Rollback failed')).toEqual({
      Type: 'Pass',
      Parameters: {
        'Error.$': `${rb}.error`,
        'Cause.$': `States.Format('{}; staging is left degraded on {}: the rollback to {} failed: {}', ${rb}.reason, $.release.tag, ${rb}.target.tag, ${rb}.failure.Cause)`,
      },
      ResultPath: '$.error',
      Next: 'Staging · Notify left degraded',
    });
    expect(state('Staging · Rollback degraded').Next).toBe('Staging · Rollback failed');
    expect(state('Staging · Rollback timed out').Next).toBe('Staging · Rollback failed');
  });

  it('goes from a healthy stage to the next stage, and from the last one to Deployed', () => {
    expect(state('Staging · Notify healthy').Next).toBe('Production · Await approval');
    expect(state('Staging · Notify healthy').Parameters?.Payload['detail.$']).toBe('$.stages.staging.health');
    expect(state('Production · Notify healthy').Next).toBe('Notify deployed');
    expect(state('Notify deployed').Parameters?.Payload).toEqual({
      event: 'deployed',
      'execution.$': '$$.Execution.Name',
      'release.$': '$.release',
      'detail.$': '$.stages',
    });
  });

  it('ends in Deployed, Rejected, Approval expired or Superseded as success and in Failed or Rolled back as failure', () => {
    expect(state('Deployed')).toEqual({
      Type: 'Pass',
      Result: 'deployed',
      ResultPath: '$.outcome',
      End: true,
    });
    expect(state('Rejected')).toEqual({
      Type: 'Pass',
      Result: 'rejected',
      ResultPath: '$.outcome',
      End: true,
    });
    expect(state('Approval expired')).toEqual({
      Type: 'Pass',
      Result: 'expired',
      ResultPath: '$.outcome',
      End: true,
    });
    expect(state('Superseded')).toEqual({
      Type: 'Pass',
      Result: 'superseded',
      ResultPath: '$.outcome',
      End: true,
    });
    expect(state('Notify failed').Next).toBe('Failed');
    expect(state('Notify failed').Parameters?.Payload['detail.$']).toBe('$.error');
    expect(state('Failed')).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    const terminal = Object.entries(states())
      .filter(([, s]) => s.End || s.Type === 'Fail')
      .map(([name]) => name)
      .sort();
    expect(terminal).toEqual([
      'Approval expired',
      'Deployed',
      'Failed',
      'Rejected',
      'Rolled back',
      'Superseded',
    ]);
  });

  it('never lets a notification change the data or fail the run', () => {
    const notifies = Object.entries(states()).filter(([name]) => /Notify /.test(name));
    // Per stage: committed, superseded, healthy, timed out, and four for the rollback; per stage's
    // manual rollback: committed, superseded, healthy, degraded, timed out; three per approval.
    expect(notifies.length).toBe(3 + 2 * 8 + 3 + 2 * 5 + 3);
    for (const [name, task] of notifies) {
      expect(handlerOfArn(template, task.Parameters?.FunctionName), name).toBe('notify');
      expect(task.Resource, name).toBe('arn:aws:states:::lambda:invoke');
      expect(task.ResultPath, name).toBeNull();
      expect(task.Retry, name).toEqual([
        { ErrorEquals: LAMBDA_TRANSIENT_ERRORS, IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2 },
      ]);
      expect(task.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: task.Next }]);
    }
  });

  it('is valid Amazon States Language', () => {
    const result = aslValidator(definition);
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });
});

describe('the state machine log', () => {
  const loggingOf = (template: CloudFormationTemplate) => {
    const [[, machine]] = resourcesOf(template, 'AWS::StepFunctions::StateMachine') as [[string, Json]];
    return machine.Properties.LoggingConfiguration;
  };
  let byDefault: CloudFormationTemplate;
  let switchedOn: CloudFormationTemplate;

  beforeAll(() => {
    byDefault = synthesizeTemplate(exampleConfig);
    switchedOn = synthesizeTemplate(
      configWith((input) => ({ ...input, observability: { logExecutionData: true } })),
    );
  });

  it('keeps execution data (task tokens, approval payloads) out of the log by default', () => {
    expect(exampleConfig.observability).toEqual({ logExecutionData: false });
    expect(loggingOf(byDefault)).toEqual({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: expect.anything() } }],
      IncludeExecutionData: false,
      Level: 'ALL',
    });
  });

  it('logs execution data when observability.logExecutionData is on', () => {
    expect(loggingOf(switchedOn)).toMatchObject({ IncludeExecutionData: true, Level: 'ALL' });
  });
});

describe('a config without an approval stage', () => {
  let definition: AslDefinition;
  let template: CloudFormationTemplate;

  beforeAll(() => {
    const config = configWith((input) => ({
      ...input,
      stages: input.stages.map(({ approval: _approval, ...stage }) => stage),
    }));
    template = synthesizeTemplate(config);
    definition = definitionOf(template);
  });

  it('has no approval states, no Rejected or Approval expired, and no request-approval function', () => {
    const names = Object.keys(definition.States);
    expect(names.filter((name) => /approv|Rejected|rejected|expired/i.test(name))).toEqual([]);
    expect(definition.States['Staging · Notify healthy']?.Next).toBe('Production · Commit new tag');
    // A production rollback is committed without asking, as a promotion is.
    expect(definition.States['Release or manual rollback?']?.Choices?.at(-1)?.Next).toBe(
      'Production · Commit manual rollback',
    );
    const handlers = Object.values(template.Resources).map((r: Json) => r.Metadata?.['shiplane:handler']);
    expect(handlers).not.toContain('request-approval');
    expect(aslValidator(definition).isValid).toBe(true);
  });
});

describe('a config with three stages', () => {
  let definition: AslDefinition;

  beforeAll(() => {
    const config = configWith((input) => ({
      ...input,
      stages: [
        {
          name: 'dev',
          file: 'environments/dev/values.yaml',
          valuesPath: '{app}.image.tag',
          digestPath: '{app}.image.digest',
          pinDigest: true,
          argocdApp: 'itdo-erp-dev',
          argocdProject: 'itdo-erp',
          appNamespace: 'argocd',
          sync: true,
          healthTimeout: '5m',
          pollInterval: '20s',
        },
        ...input.stages.map((stage) => ({
          ...stage,
          approval: { approvers: ['U0PLATFORM1'], timeout: stage.name === 'staging' ? '2h' : '1d' },
        })),
      ],
    }));
    definition = definitionOf(synthesizeTemplate(config));
  });

  it('chains the stages in config order, each with its own approval timeout', () => {
    expect(definition.States.Prepare?.Result).toEqual({ dev: {}, staging: {}, production: {} });
    expect(definition.States['Notify release started']?.Next).toBe('Release or manual rollback?');
    expect(definition.States['Release or manual rollback?']?.Choices?.[0]?.Next).toBe('Dev · Commit new tag');
    expect(definition.States['Dev · Notify healthy']?.Next).toBe('Staging · Await approval');
    expect(definition.States['Staging · Notify healthy']?.Next).toBe('Production · Await approval');
    expect(definition.States['Production · Notify healthy']?.Next).toBe('Notify deployed');
    expect(definition.States['Staging · Await approval']?.TimeoutSeconds).toBe(7200);
    expect(definition.States['Production · Await approval']?.TimeoutSeconds).toBe(86400);
    expect(definition.States['Staging · Notify rejected']?.Next).toBe('Rejected');
    expect(definition.States['Production · Notify rejected']?.Next).toBe('Rejected');
    // Per stage: 15 states, less Notify degraded, plus 21 rollback states, and 15 of its manual
    // rollback; 7 per approval, twice; one Rolled back for all; the route and the unknown stage.
    expect(Object.keys(definition.States)).toHaveLength(
      8 + 3 * (15 - 1 + 21) + 2 * 7 + 2 + 3 * 15 + 2 * 7 + 2,
    );
    expect(
      definition.States['Release or manual rollback?']?.Choices?.slice(3).map((c: Json) => c.Next),
    ).toEqual([
      'Dev · Commit manual rollback',
      'Staging · Await manual rollback approval',
      'Production · Await manual rollback approval',
    ]);
  });

  it('passes the Helm paths and Argo CD options of a stage through literally', () => {
    expect(definition.States['Dev · Commit new tag']?.Parameters?.MessageBody.change).toEqual({
      kind: 'image',
      edit: 'promotion',
      stage: 'dev',
      file: 'environments/dev/values.yaml',
      'release.$': '$.release',
      pinDigest: true,
      createIfMissing: false,
      valuesPath: '{app}.image.tag',
      digestPath: '{app}.image.digest',
    });
    expect(definition.States['Dev · Wait for Argo CD']?.Parameters?.Payload).toMatchObject({
      argocdApp: 'itdo-erp-dev',
      argocdProject: 'itdo-erp',
      appNamespace: 'argocd',
      sync: true,
      file: 'environments/dev/values.yaml',
      pinDigest: true,
      valuesPath: '{app}.image.tag',
      digestPath: '{app}.image.digest',
      maxAttempts: 15,
    });
    expect(definition.States['Dev · Poll again']?.Seconds).toBe(20);
    expect(definition.States['Dev · Timed out']?.Parameters?.['Cause.$']).toContain(
      "'dev still {} after 5m: {}'",
    );
  });

  it('is valid Amazon States Language', () => {
    const result = aslValidator(definition);
    expect(result.errorsText('\n')).toBe('');
  });
});

describe('a config with rollback: off', () => {
  let definition: AslDefinition;

  beforeAll(() => {
    const config = configWith((input) => ({
      ...input,
      stages: input.stages.map((stage) => ({ ...stage, rollback: 'off' as const })),
    }));
    definition = definitionOf(synthesizeTemplate(config));
  });

  it('fails fast on Degraded and on the health timeout, without rollback states', () => {
    expect(definition.States['Staging · Degraded']?.Next).toBe('Staging · Notify degraded');
    expect(definition.States['Staging · Notify degraded']?.Next).toBe('Failed');
    expect(definition.States['Staging · Timed out']?.Next).toBe('Staging · Notify timed out');
    // `rollback: off` turns off the automatic rollback only; `shiplane rollback` still has its path.
    expect(
      Object.keys(definition.States).filter((name) => /roll/i.test(name) && !/manual rollback/i.test(name)),
    ).toEqual([]);
    expect(definition.States['Staging · Manual rollback degraded']?.Next).toBe(
      'Staging · Notify manual rollback degraded',
    );
    expect(aslValidator(definition).isValid).toBe(true);
  });
});

describe('a config with a scan gate on backend', () => {
  let definition: AslDefinition;
  let template: CloudFormationTemplate;
  const state = (name: string) => {
    const found = definition.States[name];
    if (!found) throw new Error(`no state ${name}`);
    return found;
  };

  beforeAll(() => {
    const config = configWith((input) => ({
      ...input,
      apps: {
        ...input.apps,
        backend: { ...input.apps.backend!, scan: { maxSeverity: 'HIGH', timeout: '10m' } },
      },
    }));
    template = synthesizeTemplate(config);
    definition = definitionOf(template);
  });

  it('sends a release of a gated app through Scan gate before Staging · Commit new tag, others straight on', () => {
    expect(state('Release or manual rollback?').Choices?.[0]).toEqual({
      Not: { Variable: '$.rollback', IsPresent: true },
      Next: 'Scan gate?',
    });
    expect(state('Scan gate?')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.release.app', StringEquals: 'backend', Next: 'Start scan gate (backend)' }],
      Default: 'Staging · Commit new tag',
    });
    // 10m at one poll every 30 s.
    expect(state('Start scan gate (backend)')).toEqual({
      Type: 'Pass',
      Result: { poll: { attempt: 1, maxAttempts: 20 } },
      ResultPath: '$.scan',
      Next: 'Scan gate',
    });
    // A manual rollback puts back a release that already ran: no gate.
    const rollbackTargets = state('Release or manual rollback?')
      .Choices?.slice(1)
      .map((choice: Json) => choice.Next);
    expect(rollbackTargets).not.toContain('Scan gate?');
  });

  it('asks scan-gate with a typed payload, retries transient errors and fails the run on anything else', () => {
    const gate = state('Scan gate');
    expect(gate.Type).toBe('Task');
    expect(handlerOfArn(template, gate.Parameters?.FunctionName)).toBe('scan-gate');
    expect(gate.Parameters?.Payload).toEqual({
      'execution.$': '$$.Execution.Name',
      'release.$': '$.release',
      'attempt.$': '$.scan.poll.attempt',
      'maxAttempts.$': '$.scan.poll.maxAttempts',
    });
    expect(gate.ResultPath).toBe('$.scan.result');
    expect(gate.Retry?.[0]?.ErrorEquals).toEqual(LAMBDA_TRANSIENT_ERRORS);
    expect(gate.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify failed' },
    ]);
    expect(gate.Next).toBe('Scan verdict?');
  });

  it('goes on only on pass, polls while pending, and ends Blocked (succeeded) on anything else', () => {
    expect(state('Scan verdict?')).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.scan.result.verdict', StringEquals: 'pass', Next: 'Staging · Commit new tag' },
        { Variable: '$.scan.result.verdict', StringEquals: 'pending', Next: 'Wait for the scan' },
      ],
      Default: 'Notify blocked',
    });
    expect(state('Count scan poll').Next).toBe('Scan gate');
    expect(state('Notify blocked').Parameters?.Payload).toEqual({
      event: 'blocked',
      'execution.$': '$$.Execution.Name',
      'release.$': '$.release',
      'detail.$': '$.scan.result',
    });
    expect(state('Notify blocked').Next).toBe('Blocked');
    expect(state('Blocked')).toEqual({ Type: 'Pass', Result: 'blocked', ResultPath: '$.outcome', End: true });
    expect([...reachableStates(definition)]).toEqual(expect.arrayContaining(['Scan gate', 'Blocked']));
    expect(aslValidator(definition).isValid).toBe(true);
  });

  it('waits for the scan on a task token of scan-events for one poll interval, then polls again', () => {
    const wait = state('Wait for the scan');
    expect(wait.Type).toBe('Task');
    expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(handlerOfArn(template, wait.Parameters?.FunctionName)).toBe('scan-events');
    expect(wait.Parameters?.Payload).toEqual({
      action: 'wait-for-scan',
      'taskToken.$': '$$.Task.Token',
      'execution.$': '$$.Execution.Name',
      'app.$': '$.release.app',
      'ecrRepository.$': '$.release.ecrRepository',
      'digest.$': '$.release.digest',
    });
    expect(wait.TimeoutSeconds).toBe(30);
    // The wake-up's answer is never read: the next check reads the findings from ECR.
    expect(wait.ResultPath).toBeNull();
    expect(wait.Next).toBe('Count scan poll');
    expect(wait.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'Count scan poll' },
      { ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'Wait for the next scan poll' },
    ]);
    // No wait recorded (the function or the table failed): a plain wait keeps the poll's pace.
    expect(state('Wait for the next scan poll')).toMatchObject({
      Type: 'Wait',
      Seconds: 30,
      Next: 'Count scan poll',
    });
  });
});
