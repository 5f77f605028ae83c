/**
 * The config's `aws` section in the synthesized stack: VPC placement of the functions that call Argo
 * CD or GitHub, kms:Decrypt for the secrets' customer-managed keys, and the state machine's log group.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ShiplaneStack } from '../../infra/stack.js';
import { createShiplaneApp, stackEnvironment } from '../../infra/synth.js';
import { parseConfig } from '../../shared/config/load.js';
import { toConfigInput } from '../../shared/config/runtime.js';
import type { HandlerName } from '../../shared/contracts/handlers.js';
import { ConfigError } from '../../shared/errors.js';
import { configWith, exampleConfig, type Json } from './support.js';

const SUBNETS = ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'];
const GROUPS = ['sg-0123456789abcdef0'];
const KEYS = [
  'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  'arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab',
];

/** The functions of a template by handler name. */
function functionsOf(template: Template): Map<HandlerName, Json> {
  return new Map(
    Object.values(template.findResources('AWS::Lambda::Function')).map((r: Json) => [
      r.Metadata['shiplane:handler'],
      r,
    ]),
  );
}

/** Every IAM statement in the template that allows `action`, with the roles its policy is attached to. */
function statementsAllowing(template: Template, action: string): Array<{ roles: string[]; statement: Json }> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy: Json) =>
    (policy.Properties.PolicyDocument.Statement as Json[])
      .filter((statement) => [statement.Action].flat().includes(action))
      .map((statement) => ({ roles: policy.Properties.Roles.map((r: Json) => r.Ref), statement })),
  );
}

describe('a config with aws.vpc and aws.secretsKmsKeyArns', () => {
  let stack: ShiplaneStack;
  let template: Template;
  let functions: Map<HandlerName, Json>;
  const config = configWith((input) => ({
    ...input,
    aws: { vpc: { subnetIds: SUBNETS, securityGroupIds: GROUPS }, secretsKmsKeyArns: KEYS },
  }));

  beforeAll(() => {
    ({ stack } = createShiplaneApp(config, { nag: true }));
    template = Template.fromStack(stack);
    functions = functionsOf(template);
  }, 120_000);

  it('puts argocd-health and the committer in the subnets with the security groups, and no other function', () => {
    const placed = [...functions].filter(([, fn]) => fn.Properties.VpcConfig).map(([name]) => name);
    expect(placed.sort()).toEqual(['argocd-health', 'committer']);
    for (const name of placed) {
      expect(functions.get(name).Properties.VpcConfig, name).toEqual({
        SubnetIds: SUBNETS,
        SecurityGroupIds: GROUPS,
      });
    }
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  it('lets only the functions in the VPC manage their network interfaces, before they are created', () => {
    const roleOf = (name: HandlerName) => functions.get(name).Properties.Role['Fn::GetAtt'][0];
    const eni = statementsAllowing(template, 'ec2:CreateNetworkInterface');
    expect(eni.flatMap((s) => s.roles).sort()).toEqual([roleOf('argocd-health'), roleOf('committer')].sort());
    // Lambda creates the interfaces when the function is created: the policy must exist by then.
    for (const name of ['argocd-health', 'committer'] as const) {
      const [policyId] = Object.entries(template.findResources('AWS::IAM::Policy')).find(
        ([, p]: [string, Json]) => p.Properties.Roles.some((r: Json) => r.Ref === roleOf(name)),
      ) ?? [''];
      expect(functions.get(name).DependsOn, name).toContain(policyId);
    }
  });

  it('grants kms:Decrypt on the given keys only, through Secrets Manager, to the functions that read secrets', () => {
    // The stack's own keys (its topic's, for instance) are granted as before; the config's keys are literal ARNs.
    const decrypts = statementsAllowing(template, 'kms:Decrypt').filter(({ statement }) =>
      JSON.stringify(statement.Resource).includes('arn:aws:kms:'),
    );
    expect(decrypts.length).toBeGreaterThan(0);
    for (const { statement } of decrypts) {
      expect(statement.Resource).toEqual(KEYS);
      expect(statement.Condition.StringEquals['kms:ViaService']).toEqual({
        'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]],
      });
    }
    const readers = new Set(
      statementsAllowing(template, 'secretsmanager:GetSecretValue').flatMap((s) => s.roles),
    );
    const decrypters = new Set(decrypts.flatMap((s) => s.roles));
    expect(decrypters).toEqual(readers);
    const roleNames = [...functions]
      .filter(([, fn]) => decrypters.has(fn.Properties.Role['Fn::GetAtt'][0]))
      .map(([name]) => name)
      .sort();
    expect(roleNames).toEqual([
      'argocd-health',
      'committer',
      'notify',
      'request-approval',
      'secret-sync',
      'slack-interaction',
    ]);
  });

  it('finds nothing unacknowledged in the AwsSolutions and Serverless packs', () => {
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const report = pack.validateScope(stack);
      const findings = report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
      );
      expect(findings, pack.readPackName).toEqual([]);
    }
  });

  it('keeps the aws section when the config travels to the functions', () => {
    expect(parseConfig(toConfigInput(config), 'round trip').aws).toEqual(config.aws);
  });
});

describe('a config without an aws section', () => {
  it('puts no function in a VPC and grants no kms:Decrypt', () => {
    const { stack } = createShiplaneApp(exampleConfig);
    const template = Template.fromStack(stack);
    for (const [name, fn] of functionsOf(template)) expect(fn.Properties.VpcConfig, name).toBeUndefined();
    const decrypts = statementsAllowing(template, 'kms:Decrypt');
    expect(JSON.stringify(decrypts)).not.toMatch(/arn:aws:kms:|kms:ViaService/);
    expect(statementsAllowing(template, 'ec2:CreateNetworkInterface')).toEqual([]);
  });
});

describe('the state machine log group', () => {
  it('is named under /aws/vendedlogs/states/', () => {
    const { stack } = createShiplaneApp(exampleConfig);
    const template = Template.fromStack(stack);
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as Json;
    const [logGroupId] =
      machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn[
        'Fn::GetAtt'
      ];
    expect(template.toJSON().Resources[logGroupId].Properties.LogGroupName).toBe(
      '/aws/vendedlogs/states/Shiplane-promotion',
    );
  });
});

describe('the aws section of the config', () => {
  const problems = (aws: unknown) => {
    try {
      parseConfig({ ...toConfigInput(exampleConfig), aws }, 'test config');
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.message;
    }
  };

  it('names what is wrong with a subnet, a security group or a key', () => {
    expect(problems({ vpc: { subnetIds: ['vpc-1234abcd'], securityGroupIds: GROUPS } })).toMatch(
      /aws\.vpc\.subnetIds\[0\].*subnet id/,
    );
    expect(problems({ vpc: { subnetIds: SUBNETS, securityGroupIds: [] } })).toMatch(
      /aws\.vpc\.securityGroupIds.*at least one security group/,
    );
    expect(problems({ secretsKmsKeyArns: ['alias/shiplane'] })).toMatch(
      /aws\.secretsKmsKeyArns\[0\].*KMS key ARN/,
    );
    expect(problems({ vpc: { subnetIds: SUBNETS, securityGroupIds: GROUPS }, region: 'eu-west-1' })).toMatch(
      /aws/,
    );
  });
});

describe('stackEnvironment', () => {
  it('takes account and region from the CDK environment, and leaves out what is not set', () => {
    expect(
      stackEnvironment({ CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' }),
    ).toEqual({
      account: '123456789012',
      region: 'eu-west-1',
    });
    expect(stackEnvironment({ CDK_DEFAULT_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1' });
    expect(stackEnvironment({})).toEqual({});
  });
});
