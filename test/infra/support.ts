/**
 * Shared by the infra tests: example config variants, the state machine definition of a synthesized
 * template with its intrinsics resolved, and small template queries.
 */
import { readFileSync } from 'node:fs';
import type { CloudFormationTemplate } from '../../infra/synth.js';
import { parseConfig, parseConfigText } from '../../shared/config/load.js';
import { toConfigInput } from '../../shared/config/runtime.js';
import type { Config, ConfigInput } from '../../shared/config/schema.js';

/** The example config that ships with the project (ITDO ERP: staging, then production with approval). */
export const exampleConfig: Config = parseConfigText(
  readFileSync(new URL('../../shiplane.config.yaml', import.meta.url), 'utf8'),
);

/** The example config with some changes, validated like a real file. */
export function configWith(change: (input: ConfigInput) => ConfigInput): Config {
  return parseConfig(change(structuredClone(toConfigInput(exampleConfig))), 'test config');
}

/** Free-form template JSON, as tests index into it. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON has no useful static type here.
export type Json = any;

export const FAKE = { partition: 'aws', region: 'eu-west-1', account: '123456789012' } as const;

type Resource = { Type: string; Properties?: Record<string, Json>; Metadata?: Record<string, unknown> };

export function resourcesOf(template: CloudFormationTemplate, type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
}

/** Resolves the few intrinsics a definition string holds: pseudo parameters, Ref and GetAtt Arn. */
function resolveIntrinsic(template: CloudFormationTemplate, value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, Json>;
  if ('Ref' in node) {
    const ref = node.Ref as string;
    if (ref === 'AWS::Partition') return FAKE.partition;
    if (ref === 'AWS::Region') return FAKE.region;
    if (ref === 'AWS::AccountId') return FAKE.account;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    const type = template.Resources[ref]?.Type;
    if (type === 'AWS::SQS::Queue') return `https://sqs.${FAKE.region}.amazonaws.com/${FAKE.account}/${ref}`;
    throw new Error(`unexpected Ref ${ref} (${type}) in the definition`);
  }
  if ('Fn::GetAtt' in node) {
    const [id, attribute] = node['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn' || template.Resources[id]?.Type !== 'AWS::Lambda::Function') {
      throw new Error(`unexpected GetAtt ${id}.${attribute} in the definition`);
    }
    return `arn:${FAKE.partition}:lambda:${FAKE.region}:${FAKE.account}:function:${id}`;
  }
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveIntrinsic(template, part)).join(separator);
  }
  throw new Error(`unexpected intrinsic ${JSON.stringify(node)} in the definition`);
}

export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, Json>;
  ResultPath?: string | null;
  ResultSelector?: Record<string, string>;
  TimeoutSeconds?: number;
  Retry?: Array<{
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
  }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string | null }>;
  Result?: unknown;
  Choices?: Array<Record<string, Json>>;
  Default?: string;
  Seconds?: number;
  ErrorPath?: string;
  CausePath?: string;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

/** The promotion state machine's definition, parsed, with fake ARNs for the functions and queue. */
export function definitionOf(template: CloudFormationTemplate): AslDefinition {
  const machines = resourcesOf(template, 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const [, machine] = machines[0]!;
  return JSON.parse(resolveIntrinsic(template, machine.Properties?.DefinitionString)) as AslDefinition;
}

/** The `shiplane:handler` name of the function a fake ARN from `definitionOf` points at. */
export function handlerOfArn(template: CloudFormationTemplate, arn: string): unknown {
  const id = arn.split(':function:')[1] ?? '';
  return template.Resources[id]?.Metadata?.['shiplane:handler'];
}

/** Every state reachable from StartAt, following Next, Default, Choices and Catch. */
export function reachableStates(definition: AslDefinition): Set<string> {
  const seen = new Set<string>();
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const state = definition.States[name];
    if (!state) throw new Error(`transition to missing state ${name}`);
    for (const next of [
      state.Next,
      state.Default,
      ...(state.Choices ?? []).map((c) => c.Next as string),
      ...(state.Catch ?? []).map((c) => c.Next),
    ]) {
      if (next) queue.push(next);
    }
  }
  return seen;
}
