import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { createShiplaneApp, synthesizeTemplate } from '../../infra/synth.js';
import { HANDLER_NAMES } from '../../shared/contracts/handlers.js';
import { configWith, exampleConfig, type Json, resourcesOf } from './support.js';

const statementsWith = (template: Json, action: string): Json[] =>
  resourcesOf(template, 'AWS::IAM::Policy')
    .flatMap(([, policy]) => policy.Properties?.PolicyDocument.Statement as Json[])
    .filter((statement) => [statement.Action].flat().includes(action));

describe('synthesizeTemplate', () => {
  it('returns the template of the stack, with the state machine in it', () => {
    const template = synthesizeTemplate(exampleConfig);
    expect(resourcesOf(template, 'AWS::StepFunctions::StateMachine')).toHaveLength(1);
    expect(Object.keys(template.Outputs).sort()).toEqual([
      'AlertTopicArn',
      'ApprovalsTableName',
      'DeliveryDashboardName',
      'RunRecordsTableName',
      'SlackInteractionUrl',
      'StateMachineArn',
    ]);
    // Bundling is skipped: the functions point at an asset that was never built.
    // Every function but scan-gate, scan-events, freeze-check and pull-request, which only a config
    // with some apps.<name>.scan, stages[].freeze or stages[].pullRequest has.
    expect(resourcesOf(template, 'AWS::Lambda::Function')).toHaveLength(HANDLER_NAMES.length - 4);
  });

  it('stays nag clean for GitHub App credentials, env: references and secret selections by tag', () => {
    const config = configWith((input) => ({
      ...input,
      gitops: {
        ...input.gitops,
        github: {
          apiUrl: 'https://github.example.com/api/v3',
          app: { appId: 12345, installationId: 67890, privateKey: 'secret:shiplane/github-app-key' },
        },
      },
      argocd: { ...input.argocd, token: 'env:ARGOCD_TOKEN' },
      secrets: [
        ...(input.secrets ?? []),
        {
          tags: { environment: 'staging' },
          file: 'environments/staging/external-secrets.yaml',
          secretStore: { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' },
        },
      ],
    }));
    const template = synthesizeTemplate(config, { nag: true });

    const reads = statementsWith(template, 'secretsmanager:GetSecretValue');
    const text = JSON.stringify(reads);
    expect(text).toContain('secret:shiplane/github-app-key-??????');
    expect(text).not.toContain('ARGOCD_TOKEN');
    expect(text).not.toContain('github-token');
    const byTag = reads.find((s) => s.Condition);
    expect(byTag.Condition).toEqual({
      StringEquals: { 'secretsmanager:ResourceTag/shiplane:environment': 'staging' },
    });
    expect(JSON.stringify(byTag.Resource)).toContain(':secret:*-??????');
  });

  it('refuses to synthesize when the nag packs find something unacknowledged', () => {
    const { app, stack } = createShiplaneApp(exampleConfig, { nag: true });
    new Queue(stack, 'careless', { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS\d/);
  });
});
