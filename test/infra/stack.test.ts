import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ShiplaneStack } from '../../infra/stack.js';
import { createShiplaneApp } from '../../infra/synth.js';
import { parseConfig } from '../../shared/config/load.js';
import { HANDLER_NAMES, type HandlerName } from '../../shared/contracts/handlers.js';
import { configWith, type Json } from './support.js';

/** A Fn::Join ARN as the template writes it, flattened for comparison. */
function flatten(value: Json): string {
  if (typeof value === 'string') return value;
  if (value.Ref) return `<${value.Ref}>`;
  if (value['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  return JSON.stringify(value);
}

const secretArn = (name: string) =>
  `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????`;

/**
 * The example config with a scan gate on backend, a freeze on production and production through
 * pull requests, so the stack has every function, scan-gate, freeze-check and pull-request included.
 */
const gatedExample = configWith((input) => ({
  ...input,
  apps: { ...input.apps, backend: { ...input.apps.backend!, scan: { maxSeverity: 'HIGH' } } },
  stages: input.stages.map((stage) =>
    stage.name === 'production'
      ? {
          ...stage,
          pullRequest: { merge: 'manual' as const },
          freeze: [
            { from: '2026-12-28T00:00:00+09:00', to: '2027-01-04T09:00:00+09:00', reason: 'year end' },
          ],
        }
      : stage,
  ),
}));
/** The functions a stack of the example config (no scan gate, no freeze, no pull requests) has. */
const EXAMPLE_HANDLERS = HANDLER_NAMES.filter(
  (name) => !['scan-gate', 'scan-events', 'freeze-check', 'pull-request'].includes(name),
);

describe('the Shiplane stack of the example config (with a scan gate on backend)', () => {
  let app: App;
  let stack: ShiplaneStack;
  let template: Template;
  let json: Json;
  const functions = new Map<HandlerName, { id: string; props: Json }>();

  /** Every Allow statement of every policy attached to the handler's role. */
  const statementsOf = (name: HandlerName): Array<{ actions: string[]; resources: string[]; raw: Json }> => {
    const fn = functions.get(name);
    if (!fn) throw new Error(`no function ${name}`);
    const roleId = fn.props.Role['Fn::GetAtt'][0];
    return Object.values(json.Resources as Record<string, Json>)
      .filter(
        (r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: Json) => ref.Ref === roleId),
      )
      .flatMap((r) => r.Properties.PolicyDocument.Statement)
      .map((raw: Json) => ({
        actions: [raw.Action].flat(),
        resources: [raw.Resource].flat().map(flatten),
        raw,
      }));
  };
  const actionsOf = (name: HandlerName) => statementsOf(name).flatMap((s) => s.actions);
  const resourcesFor = (name: HandlerName, action: string) =>
    statementsOf(name)
      .filter((s) => s.actions.includes(action))
      .flatMap((s) => s.resources)
      .sort();

  beforeAll(() => {
    ({ app, stack } = createShiplaneApp(gatedExample, { nag: true }));
    template = Template.fromStack(stack);
    json = template.toJSON();
    for (const [id, resource] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      functions.set((resource as Json).Metadata['shiplane:handler'], {
        id,
        props: (resource as Json).Properties,
      });
    }
  });

  describe('functions', () => {
    it('has one function per handler, each tagged with its handler name', () => {
      expect([...functions.keys()].sort()).toEqual([...HANDLER_NAMES].sort());
      template.resourceCountIs('AWS::Lambda::Function', HANDLER_NAMES.length);
    });

    it('runs every function on Node.js 22+ on arm64 with X-Ray and its own log group', () => {
      for (const [name, { props }] of functions) {
        expect(Number(/^nodejs(\d+)\.x$/.exec(props.Runtime)?.[1]), name).toBeGreaterThanOrEqual(22);
        expect(props.Architectures, name).toEqual(['arm64']);
        expect(props.Handler, name).toBe('index.handler');
        expect(props.TracingConfig, name).toEqual({ Mode: 'Active' });
        expect(props.LoggingConfig.LogGroup.Ref, name).toBeDefined();
        expect(props.MemorySize, name).toBeGreaterThanOrEqual(256);
        expect(props.Timeout, name).toBeGreaterThan(3);
      }
    });

    it('gives every function the validated config (references only) and Powertools settings', () => {
      for (const [name, { props }] of functions) {
        const env = props.Environment.Variables;
        expect(parseConfig(JSON.parse(env.SHIPLANE_CONFIG))).toEqual(gatedExample);
        expect(env.POWERTOOLS_SERVICE_NAME, name).toBe(`shiplane-${name}`);
        expect(env.POWERTOOLS_METRICS_NAMESPACE, name).toBe('Shiplane');
      }
    });

    it('sets the environment each handler reads', () => {
      const env = (name: HandlerName) => functions.get(name)?.props.Environment.Variables;
      expect(env('intake').STATE_MACHINE_ARN).toEqual({
        Ref: expect.stringMatching(/^promotionstatemachine/),
      });
      for (const name of ['request-approval', 'slack-interaction', 'notify'] as const) {
        expect(env(name).APPROVALS_TABLE, name).toEqual({ Ref: expect.stringMatching(/^approvalstable/) });
      }
      // slack-interaction reads a run's history when SendTaskSuccess answers ambiguously.
      expect(env('slack-interaction').STATE_MACHINE_ARN).toEqual({
        Ref: expect.stringMatching(/^promotionstatemachine/),
      });
      expect(env('notify').ALERT_TOPIC_ARN).toEqual({ Ref: expect.stringMatching(/^alertingtopic/) });
      expect(env('secret-sync').COMMIT_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^commitqueue/) });
    });

    it('keeps secret values out of the template', () => {
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      const text = JSON.stringify(json);
      expect(text).not.toMatch(/SecretString|xox[bp]-|ghp_|BEGIN (RSA )?PRIVATE KEY/);
    });
  });

  describe('image push intake', () => {
    it('matches only successful pushes to the configured repositories', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecr'],
          'detail-type': ['ECR Image Action'],
          detail: {
            'action-type': ['PUSH'],
            result: ['SUCCESS'],
            'repository-name': ['itdo-erp/backend', 'itdo-erp/frontend'],
          },
        },
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^imagepushintakequeue'), 'Arn'] },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^imagepushintakedlq'), 'Arn'] },
            },
          }),
        ],
      });
    });

    it('buffers events in an encrypted queue with a DLQ, drained in batches with partial failures', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^imagepushintakedlq'), 'Arn'] },
          maxReceiveCount: 3,
        },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functions.get('intake')?.id },
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^imagepushintakequeue'), 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('lets the intake start executions of the promotion state machine and nothing else in Step Functions', () => {
      const states = statementsOf('intake').filter((s) => s.actions.some((a) => a.startsWith('states:')));
      expect(states).toHaveLength(1);
      expect(states[0]?.actions).toEqual(['states:StartExecution']);
      expect(states[0]?.resources).toEqual([expect.stringMatching(/^<promotionstatemachine/)]);
      expect(actionsOf('intake').filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    });
  });

  describe('scan gate wake-up', () => {
    const scanEventsTarget = () =>
      Match.objectLike({
        Arn: { 'Fn::GetAtt': [functions.get('scan-events')?.id, 'Arn'] },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^promotionscanwakeupdlq'), 'Arn'] },
        },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      });

    it('brings ECR Image Scan events that ended, of the gated repositories only, to scan-events', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecr'],
          'detail-type': ['ECR Image Scan'],
          detail: { 'scan-status': ['COMPLETE', 'FAILED'], 'repository-name': ['itdo-erp/backend'] },
        },
        State: 'ENABLED',
        Targets: [scanEventsTarget()],
      });
    });

    it('brings Inspector2 Scan events of the gated repositories (by ARN, as Inspector names them) to scan-events', () => {
      const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
        (rule) => (rule as Json).Properties.EventPattern?.source?.[0] === 'aws.inspector2',
      );
      expect(rules).toHaveLength(1);
      const { EventPattern, Targets } = (rules[0] as Json).Properties;
      expect(EventPattern['detail-type']).toEqual(['Inspector2 Scan']);
      expect(EventPattern.detail['scan-status']).toEqual(['INITIAL_SCAN_COMPLETE']);
      expect(EventPattern.detail['repository-name'].map(flatten)).toEqual([
        'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/backend',
      ]);
      expect(Targets).toHaveLength(1);
      expect(Targets[0].Arn).toEqual({ 'Fn::GetAtt': [functions.get('scan-events')?.id, 'Arn'] });
      expect(Targets[0].DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/^promotionscanwakeupdlq/);
    });

    it('keeps the waiting tokens in a table of its own that only scan-events reaches, item by item', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'image', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      });
      const onWaits = (name: HandlerName) =>
        statementsOf(name).filter((s) => s.resources.some((r) => r.startsWith('<promotionscanwakeupwaits')));
      expect(
        onWaits('scan-events')
          .flatMap((s) => s.actions)
          .sort(),
      ).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(
        actionsOf('scan-events')
          .filter((a) => a.startsWith('dynamodb:'))
          .sort(),
      ).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      for (const name of HANDLER_NAMES.filter((n) => n !== 'scan-events')) {
        expect(onWaits(name), name).toEqual([]);
      }
      expect(functions.get('scan-events')?.props.Environment.Variables.SCAN_WAITS_TABLE).toEqual({
        Ref: expect.stringMatching(/^promotionscanwakeupwaits/),
      });
      // It reads no findings: the woken run's check does.
      expect(actionsOf('scan-events').filter((a) => a.startsWith('ecr:'))).toEqual([]);
    });

    it('lets scan-events succeed task tokens of the promotion state machine only, and the state machine invoke it', () => {
      expect(resourcesFor('scan-events', 'states:SendTaskSuccess')).toEqual([
        expect.stringMatching(/^<promotionstatemachine/),
      ]);
      expect(actionsOf('scan-events').filter((a) => a.startsWith('states:'))).toEqual([
        'states:SendTaskSuccess',
      ]);
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [functions.get('scan-events')?.id, 'Arn'] },
        Principal: 'events.amazonaws.com',
      });
    });
  });

  describe('image sweep', () => {
    it('runs the sweep every 15 minutes (intake.sweep), with a DLQ for invocations that keep failing', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functions.get('sweep')?.id, 'Arn'] },
            DeadLetterConfig: {
              Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^imagesweepdlq'), 'Arn'] },
            },
          }),
        ],
      });
      expect(functions.get('sweep')?.props.Environment.Variables.STATE_MACHINE_ARN).toEqual({
        Ref: expect.stringMatching(/^promotionstatemachine/),
      });
    });

    it('may describe images of the configured repositories only, and start the promotion state machine', () => {
      expect(resourcesFor('sweep', 'ecr:DescribeImages')).toEqual([
        'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/backend',
        'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/frontend',
      ]);
      const ecr = statementsOf('sweep').filter((s) => s.actions.some((a) => a.startsWith('ecr:')));
      expect(ecr.flatMap((s) => s.actions)).toEqual(['ecr:DescribeImages']);
      const states = statementsOf('sweep').filter((s) => s.actions.some((a) => a.startsWith('states:')));
      expect(states.flatMap((s) => s.actions)).toEqual(['states:StartExecution']);
      expect(states.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/^<promotionstatemachine/)]);
      expect(
        actionsOf('sweep').filter((a) => a.startsWith('dynamodb:') || a.startsWith('secretsmanager:')),
      ).toEqual([]);
    });
  });

  describe('commit queue', () => {
    it('is a FIFO queue with content-based deduplication, SSE, a FIFO DLQ and the engine metadata', () => {
      const queues = template.findResources('AWS::SQS::Queue', { Metadata: { 'shiplane:queue': 'commit' } });
      const [id, queue] = Object.entries(queues)[0] as [string, Json];
      expect(Object.keys(queues)).toHaveLength(1);
      expect(queue.Properties).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: true,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { maxReceiveCount: 3 },
      });
      const dlqId = queue.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
      expect(json.Resources[dlqId].Properties).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('feeds the committer ten messages at a time with partial batch failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functions.get('committer')?.id },
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^commitqueue'), 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('lets the committer answer task tokens and read the GitHub token only', () => {
      expect(resourcesFor('committer', 'states:SendTaskSuccess')).toEqual([
        expect.stringMatching(/^<promotionstatemachine/),
      ]);
      expect(resourcesFor('committer', 'states:SendTaskFailure')).toHaveLength(1);
      expect(resourcesFor('committer', 'secretsmanager:GetSecretValue')).toEqual([
        secretArn('shiplane/github-token'),
      ]);
    });
  });

  describe('approvals table', () => {
    it('is keyed by pk, expires items through expiresAt, on demand with point-in-time recovery', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('lets the public Slack endpoint only read and update approval items: no puts, threads or pointers', () => {
      const dynamo = statementsOf('slack-interaction').filter((s) =>
        s.actions.some((a) => a.startsWith('dynamodb:')),
      );
      expect(dynamo).toHaveLength(1);
      expect(dynamo[0]?.actions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(dynamo[0]?.raw.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['approval#*'] },
      });
    });

    it('grants single-item reads and writes to the three handlers that use it, and no scans', () => {
      for (const name of ['request-approval', 'notify'] as const) {
        const dynamo = statementsOf(name)
          .filter((s) => s.resources.some((r) => r.startsWith('<approvalstable')))
          .flatMap((s) => s.actions);
        expect(dynamo.sort(), name).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
      }
      for (const name of ['intake', 'committer', 'argocd-health', 'secret-sync'] as const) {
        expect(
          actionsOf(name).filter((a) => a.startsWith('dynamodb:')),
          name,
        ).toEqual([]);
      }
    });
  });

  describe('run records table', () => {
    it('is keyed by app and execution with a sparse end-time index, expiring, on demand with point-in-time recovery', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'app', KeyType: 'HASH' },
          { AttributeName: 'execution', KeyType: 'RANGE' },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: 'by-end',
            KeySchema: [
              { AttributeName: 'app', KeyType: 'HASH' },
              { AttributeName: 'endedAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('lets notify update records and nothing else reach them; notify knows the table', () => {
      const onRecords = (name: HandlerName) =>
        statementsOf(name).filter((s) => s.resources.some((r) => r.startsWith('<runrecordstable')));
      expect(onRecords('notify').flatMap((s) => s.actions)).toEqual(['dynamodb:UpdateItem']);
      for (const name of HANDLER_NAMES.filter((n) => n !== 'notify')) {
        expect(onRecords(name), name).toEqual([]);
      }
      expect(functions.get('notify')?.props.Environment.Variables.RUN_RECORDS_TABLE).toEqual({
        Ref: expect.stringMatching(/^runrecordstable/),
      });
    });
  });

  describe('least privilege', () => {
    it('reads each secret only where it is needed', () => {
      const read = (name: HandlerName) => resourcesFor(name, 'secretsmanager:GetSecretValue');
      expect(read('argocd-health')).toEqual([
        secretArn('shiplane/argocd-token'),
        secretArn('shiplane/github-token'),
      ]);
      expect(read('request-approval')).toEqual([secretArn('shiplane/slack-bot-token')]);
      expect(read('notify')).toEqual([secretArn('shiplane/slack-bot-token')]);
      expect(read('slack-interaction')).toEqual([
        secretArn('shiplane/slack-bot-token'),
        secretArn('shiplane/slack-signing-secret'),
      ]);
      expect(read('intake')).toEqual([]);
      expect(read('secret-sync')).toEqual([secretArn('itdo-erp/production/*')]);
      expect(read('pull-request')).toEqual([secretArn('shiplane/github-token')]);
    });

    it('grants no service-wide action and no Resource * beyond X-Ray, log delivery and ListSecrets', () => {
      const unscopable = new Set([
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
        'secretsmanager:ListSecrets',
      ]);
      for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
        for (const statement of (policy as Json).Properties.PolicyDocument.Statement) {
          const actions: string[] = [statement.Action].flat();
          for (const action of actions) expect(action, id).not.toMatch(/:\*$|^\*$/);
          if ([statement.Resource].flat().includes('*')) {
            for (const action of actions) expect(unscopable.has(action), `${id} ${action}`).toBe(true);
          }
        }
      }
      template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect((role as Json).Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('lets request-approval describe images of the configured repositories only', () => {
      expect(resourcesFor('request-approval', 'ecr:DescribeImages')).toEqual([
        'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/backend',
        'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/frontend',
      ]);
      expect(resourcesFor('request-approval', 'ecr:DescribeImageScanFindings')).toEqual([]);
    });

    it('lets only scan-gate read scan findings, of the repositories whose apps have a gate', () => {
      expect(resourcesFor('scan-gate', 'ecr:DescribeImageScanFindings')).toEqual([
        'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/backend',
      ]);
      expect(actionsOf('scan-gate').filter((a) => a.startsWith('ecr:'))).toEqual([
        'ecr:DescribeImageScanFindings',
      ]);
      for (const name of HANDLER_NAMES.filter((n) => n !== 'scan-gate')) {
        expect(actionsOf(name), name).not.toContain('ecr:DescribeImageScanFindings');
      }
      // Nothing in the stack but the scan-gate role is granted the findings.
      const grants = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
        JSON.stringify((policy as Json).Properties.PolicyDocument).includes('ecr:DescribeImageScanFindings'),
      );
      expect(grants.map(([, policy]) => (policy as Json).Properties.Roles)).toEqual([
        [{ Ref: expect.stringMatching(/scangaterole/) }],
      ]);
    });

    it('lets notify read image manifests and config blobs of the configured repositories only, and no other function', () => {
      for (const action of ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']) {
        expect(resourcesFor('notify', action)).toEqual([
          'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/backend',
          'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/itdo-erp/frontend',
        ]);
        for (const name of HANDLER_NAMES.filter((n) => n !== 'notify')) {
          expect(actionsOf(name), name).not.toContain(action);
        }
      }
    });

    it('lets notify publish to the alert topic, with the key that encrypts it', () => {
      expect(resourcesFor('notify', 'sns:Publish')).toEqual([expect.stringMatching(/^<alertingtopic/)]);
      expect(resourcesFor('notify', 'kms:GenerateDataKey')).toEqual([
        expect.stringMatching(/^<alertingkey.*\.Arn>$/),
      ]);
      expect(actionsOf('request-approval').some((a) => a.startsWith('sns:'))).toBe(false);
    });

    it('lets only the committer and slack-interaction answer task tokens, request-approval fail them, and scan-events succeed them', () => {
      for (const name of HANDLER_NAMES) {
        const answers = actionsOf(name).filter((a) => a.startsWith('states:SendTask'));
        if (name === 'committer' || name === 'slack-interaction') expect(answers, name).toHaveLength(2);
        else if (name === 'request-approval') expect(answers, name).toEqual(['states:SendTaskFailure']);
        else if (name === 'scan-events') expect(answers, name).toEqual(['states:SendTaskSuccess']);
        else expect(answers, name).toEqual([]);
      }
      // slack-interaction reads the history of this state machine's executions only, to see whether an
      // ambiguously answered approval landed; the committer, to check a change against the run's
      // pending commit task; nothing else reads executions.
      for (const name of ['slack-interaction', 'committer'] as const) {
        expect(resourcesFor(name, 'states:GetExecutionHistory'), name).toEqual([
          expect.stringMatching(
            /^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*promotionstatemachine.*:\*$/,
          ),
        ]);
      }
      for (const name of HANDLER_NAMES) {
        if (name === 'slack-interaction' || name === 'committer') continue;
        expect(
          actionsOf(name).filter((a) => a.startsWith('states:GetExecution')),
          name,
        ).toEqual([]);
      }
      // request-approval fails an older run's approval task when a newer release supersedes it.
      expect(resourcesFor('request-approval', 'states:SendTaskFailure')).toEqual([
        expect.stringMatching(/^<promotionstatemachine/),
      ]);
    });
  });

  describe('Slack interaction endpoint', () => {
    it('routes POST /slack/interactions to the slack-interaction function with payload format 2.0', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /slack/interactions' });
      template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functions.get('slack-interaction')?.id, 'Arn'] },
      });
    });

    it('throttles and access-logs the stage, and outputs the URL', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      });
      const url = flatten(json.Outputs.SlackInteractionUrl.Value);
      expect(url).toMatch(
        /^https:\/\/<slackinteractionapi\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/slack\/interactions$/,
      );
    });
  });

  describe('alerting', () => {
    it('sends alerts through a KMS-encrypted, TLS-only topic to the configured addresses', () => {
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'platform-oncall@itdo-erp.com',
        RedrivePolicy: Match.anyValue(),
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('alarms on failed and timed-out executions, DLQ messages, errors of every function and refused commits', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
        (a) => (a as Json).Properties,
      );
      for (const alarm of alarms) {
        expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^alertingtopic/) }]);
        expect(alarm.TreatMissingData).toBe('notBreaching');
      }
      const onMachine = alarms.filter((a) => a.Namespace === 'AWS/States').map((a) => a.MetricName);
      expect(onMachine.sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
      const queueAlarms = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
      const dlqs = Object.entries(template.findResources('AWS::SQS::Queue'))
        .filter(([id]) => /dlq/.test(id))
        .map(([id]) => id)
        .sort();
      // alerts, intake, commit, secret-sync, sweep, scan-events
      expect(dlqs).toHaveLength(6);
      expect(queueAlarms.map((a) => a.Dimensions[0].Value['Fn::GetAtt'][0]).sort()).toEqual(dlqs);
      const errorAlarms = alarms
        .filter((a) => a.MetricName === 'Errors')
        .map((a) => a.Dimensions[0].Value.Ref);
      expect(errorAlarms.sort()).toEqual([...functions.values()].map((f) => f.id).sort());
      const onHandlerMetrics = alarms.filter((a) => a.Namespace === 'Shiplane').map((a) => a.MetricName);
      expect(onHandlerMetrics.sort()).toEqual(['ChangesRefused', 'CommitRequestsInvalid']);
    });
  });

  describe('secret sync', () => {
    it('runs on Secrets Manager changes, on successful rotations and on the configured interval', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.secretsmanager'],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: {
            eventName: [
              'CreateSecret',
              'PutSecretValue',
              'UpdateSecret',
              'DeleteSecret',
              'RestoreSecret',
              'TagResource',
              'UntagResource',
            ],
          },
        },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.secretsmanager'],
          'detail-type': ['AWS Service Event via CloudTrail'],
          detail: { eventName: ['RotationSucceeded'] },
        },
      });
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
      const targets = Object.values(template.findResources('AWS::Events::Rule'))
        .map((r) => (r as Json).Properties.Targets[0])
        .filter((t) => t.Arn['Fn::GetAtt']?.[0] === functions.get('secret-sync')?.id);
      expect(targets).toHaveLength(3);
      for (const target of targets) expect(target.DeadLetterConfig).toBeDefined();
    });

    it('lists secrets anywhere but describes and reads only those the config selects', () => {
      expect(resourcesFor('secret-sync', 'secretsmanager:ListSecrets')).toEqual(['*']);
      expect(resourcesFor('secret-sync', 'secretsmanager:DescribeSecret')).toEqual([
        secretArn('itdo-erp/production/*'),
      ]);
      expect(resourcesFor('secret-sync', 'sqs:SendMessage')).toContainEqual(
        expect.stringMatching(/^<commitqueue\w+\.Arn>$/),
      );
    });
  });

  describe('cdk-nag', () => {
    it('finds nothing unacknowledged in the AwsSolutions and Serverless packs', () => {
      for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
        const report = pack.validateScope(stack);
        const findings = report.violations.flatMap((v) =>
          v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
        );
        expect(findings, pack.readPackName).toEqual([]);
      }
    });

    it('synthesizes with the packs registered, leaving no error or warning annotation', () => {
      const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8'));
      expect(report.pluginReports.flatMap((r: Json) => r.violations ?? [])).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    });
  });
});

describe('a config without secrets', () => {
  it('has no secret-sync function, rules or permissions', () => {
    const { stack } = createShiplaneApp(configWith((input) => ({ ...input, secrets: [] })));
    const template = Template.fromStack(stack);
    const handlers = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (r) => (r as Json).Metadata['shiplane:handler'],
    );
    expect(handlers).not.toContain('secret-sync');
    expect(handlers).toHaveLength(EXAMPLE_HANDLERS.length - 1);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/secretsmanager:ListSecrets|aws\.secretsmanager/);
  });
});

describe('a config with intake.sweep off', () => {
  it('has no sweep function, schedule or queue', () => {
    const { stack } = createShiplaneApp(configWith((input) => ({ ...input, intake: { sweep: 'off' } })));
    const template = Template.fromStack(stack);
    const handlers = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (r) => (r as Json).Metadata['shiplane:handler'],
    );
    expect(handlers).not.toContain('sweep');
    expect(handlers).toHaveLength(EXAMPLE_HANDLERS.length - 1);
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map(
      (r) => (r as Json).Properties.Description as string,
    );
    expect(rules.filter((description) => /sweep/.test(description))).toEqual([]);
    expect(
      Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) => /imagesweep/.test(id)),
    ).toEqual([]);
  });

  it('rounds a sweep period up to whole minutes', () => {
    const { stack } = createShiplaneApp(configWith((input) => ({ ...input, intake: { sweep: '90s' } })));
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(2 minutes)',
    });
  });
});

describe('a config with a stage that deploys by tag alone', () => {
  it('lets the intake put release# items of the approvals table, and nothing else in it', () => {
    const config = configWith((input) => ({
      ...input,
      stages: input.stages.map((stage) => ({ ...stage, pinDigest: stage.name !== 'staging' })),
    }));
    const { stack } = createShiplaneApp(config, { nag: true });
    const template = Template.fromStack(stack);
    const [, intake] = Object.entries(template.findResources('AWS::Lambda::Function')).find(
      ([, r]) => (r as Json).Metadata['shiplane:handler'] === 'intake',
    )!;
    const roleId = (intake as Json).Properties.Role['Fn::GetAtt'][0];
    const dynamo = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((r) => (r as Json).Properties.Roles.some((ref: Json) => ref.Ref === roleId))
      .flatMap((r) => (r as Json).Properties.PolicyDocument.Statement)
      .filter((s: Json) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));

    expect(dynamo).toEqual([
      {
        Action: 'dynamodb:PutItem',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^approvalstable/), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['release#*'] } },
      },
    ]);
    expect((intake as Json).Properties.Environment.Variables.APPROVALS_TABLE).toEqual({
      Ref: expect.stringMatching(/^approvalstable/),
    });
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });
});
