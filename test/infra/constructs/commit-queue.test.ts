import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMMIT_QUEUE_VISIBILITY_TIMEOUT,
  COMMITTER_TIMEOUT,
} from '../../../infra/constructs/commit-queue.js';
import { type CloudFormationTemplate, synthesizeTemplate } from '../../../infra/synth.js';
import { configWith, exampleConfig, type Json, resourcesOf } from '../support.js';

/** The logical id of the one resource of `type` whose id matches. */
function idOf(template: CloudFormationTemplate, type: string, pattern: RegExp): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => pattern.test(id));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${pattern}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** The commit queue itself, not its dead-letter queue. */
const COMMIT_QUEUE = /^commitqueue[0-9A-F]{8}$/;

/** The statements of the commit queue's resource policy. */
function commitQueuePolicy(template: CloudFormationTemplate): Json[] {
  const queue = idOf(template, 'AWS::SQS::Queue', COMMIT_QUEUE);
  const policies = resourcesOf(template, 'AWS::SQS::QueuePolicy').filter(([, policy]) =>
    ((policy.Properties?.Queues ?? []) as Json[]).some((ref) => ref.Ref === queue),
  );
  expect(policies).toHaveLength(1);
  return policies[0]![1].Properties?.PolicyDocument.Statement as Json[];
}

const roleArn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('the commit queue', () => {
  let template: CloudFormationTemplate;
  beforeAll(() => {
    template = synthesizeTemplate(exampleConfig);
  });

  it('denies SendMessage to every principal but the state machine and secret sync roles', () => {
    const stateMachineRole = idOf(template, 'AWS::IAM::Role', /^promotionstatemachineRole/);
    const secretSyncRole = idOf(template, 'AWS::IAM::Role', /^secretsyncsecretsyncrole/);
    const queue = idOf(template, 'AWS::SQS::Queue', COMMIT_QUEUE);

    const senders = commitQueuePolicy(template).filter((s) => s.Sid === 'OnlyShiplaneSenders');

    expect(senders).toEqual([
      {
        Sid: 'OnlyShiplaneSenders',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
        Condition: {
          ArnNotEquals: { 'aws:PrincipalArn': [roleArn(stateMachineRole), roleArn(secretSyncRole)] },
        },
      },
    ]);
    // No statement of the queue policy allows anything: the roles' own policies grant SendMessage.
    expect(commitQueuePolicy(template).filter((s) => s.Effect === 'Allow')).toEqual([]);
  });

  it('lets only the state machine send when there is no secret sync', () => {
    const withoutSecrets = synthesizeTemplate(configWith((input) => ({ ...input, secrets: [] })));
    const stateMachineRole = idOf(withoutSecrets, 'AWS::IAM::Role', /^promotionstatemachineRole/);

    const senders = commitQueuePolicy(withoutSecrets).find((s) => s.Sid === 'OnlyShiplaneSenders');

    expect(senders?.Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': [roleArn(stateMachineRole)] },
    });
  });

  it('keeps the visibility timeout at six times the committer timeout (AWS refuses less than one)', () => {
    const queue = idOf(template, 'AWS::SQS::Queue', COMMIT_QUEUE);
    const committer = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Metadata?.['shiplane:handler'] === 'committer',
    );

    expect(template.Resources[queue].Properties.VisibilityTimeout).toBe(
      COMMIT_QUEUE_VISIBILITY_TIMEOUT.toSeconds(),
    );
    expect(committer?.[1].Properties?.Timeout).toBe(COMMITTER_TIMEOUT.toSeconds());
    expect(COMMIT_QUEUE_VISIBILITY_TIMEOUT.toSeconds()).toBeGreaterThanOrEqual(
      COMMITTER_TIMEOUT.toSeconds() * 6,
    );
  });

  it('lets the committer describe and read the history of executions of the promotion state machine only', () => {
    const machine = idOf(template, 'AWS::StepFunctions::StateMachine', /^promotionstatemachine/);
    const committer = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Metadata?.['shiplane:handler'] === 'committer',
    )?.[1];
    const roleId = committer?.Properties?.Role['Fn::GetAtt'][0];
    const statements = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, policy]) => ((policy.Properties?.Roles ?? []) as Json[]).some((ref) => ref.Ref === roleId))
      .flatMap(([, policy]) => policy.Properties?.PolicyDocument.Statement as Json[]);

    const reads = statements.filter((s) =>
      [s.Action].flat().some((action: string) => /^states:(Describe|Get|List)/.test(action)),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0].Action).toEqual(['states:DescribeExecution', 'states:GetExecutionHistory']);
    expect(reads[0].Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          { 'Fn::GetAtt': [machine, 'Name'] },
          ':*',
        ],
      ],
    });
    // It publishes nothing itself: the alarms below are its alert for a refused change.
    expect(statements.filter((s) => [s.Action].flat().includes('sns:Publish'))).toEqual([]);
    expect(committer?.Properties?.Environment.Variables).toMatchObject({
      STATE_MACHINE_ARN: { Ref: machine },
    });
    expect(committer?.Properties?.Environment.Variables).not.toHaveProperty('ALERT_TOPIC_ARN');
  });

  it('alarms to the alert topic on every change the committer refuses and every invalid request', () => {
    const committer = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Metadata?.['shiplane:handler'] === 'committer',
    )?.[1];
    const service = committer?.Properties?.Environment.Variables.POWERTOOLS_SERVICE_NAME;
    const namespace = committer?.Properties?.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE;
    expect(service).toBe('shiplane-committer');

    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties as Json)
      .filter((alarm) => alarm.Namespace === namespace);

    expect(alarms.map((alarm) => alarm.MetricName).sort()).toEqual([
      'ChangesRefused',
      'CommitRequestsInvalid',
    ]);
    for (const alarm of alarms) {
      // The metric the handler's Powertools Metrics writes: its namespace and service dimension.
      expect(alarm).toMatchObject({
        Dimensions: [{ Name: 'service', Value: service }],
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: expect.stringMatching(/^alertingtopic/) }],
      });
      expect(alarm.AlarmDescription).toMatch(/^Shiplane: The committer .*nothing was written for it/);
    }
  });
});
