/**
 * Builds small CloudFormation templates shaped like `cdk synth` output, for the engine's unit tests:
 * the definition is a `DefinitionString` made of `Fn::Join` parts with `Fn::GetAtt` / `Ref` where
 * CDK puts tokens, and the functions and the commit queue carry the `shiplane:*` metadata.
 *
 * In a definition, write `{{fn:NAME}}` for a handler's function ARN, `{{queue:commit}}` for the commit
 * queue URL and `{{partition}}` for the partition; the builder turns them into intrinsics.
 */
import type { CfnTemplate } from '../../../local/engine/definition.js';

export const FUNCTION_IDS = {
  notify: 'notifyfunctionD2A6B1F4',
  'argocd-health': 'argocdhealthfunction7C1E9A20',
  'request-approval': 'requestapprovalfunction5B3F0C11',
  committer: 'committerfunctionE0A4D7B9',
} as const;

export const COMMIT_QUEUE_ID = 'commitqueueD3327AA2';
export const COMMIT_DLQ_ID = 'commitqueuedlqA3B507F3';

function fn(handler: keyof typeof FUNCTION_IDS, timeout: number) {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: timeout,
      MemorySize: 256,
      Role: { 'Fn::GetAtt': [`${FUNCTION_IDS[handler]}ServiceRole`, 'Arn'] },
    },
    Metadata: { 'aws:cdk:path': `Shiplane/${handler}/Resource`, 'shiplane:handler': handler },
  };
}

const PLACEHOLDER = /\{\{(fn|queue|partition)(?::([\w-]+))?\}\}/g;

/** Splits the definition text into CDK-style Fn::Join parts. */
export function definitionString(definition: object): { 'Fn::Join': [string, unknown[]] } {
  const text = JSON.stringify(definition);
  const parts: unknown[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, match.index));
    const [, kind, name] = match;
    if (kind === 'fn') parts.push({ 'Fn::GetAtt': [FUNCTION_IDS[name as keyof typeof FUNCTION_IDS], 'Arn'] });
    else if (kind === 'queue') parts.push({ Ref: COMMIT_QUEUE_ID });
    else parts.push({ Ref: 'AWS::Partition' });
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(text.slice(last));
  return { 'Fn::Join': ['', parts] };
}

/** A template with the four state machine handlers, the commit queue and a state machine running `definition`. */
export function cdkTemplate(definition: object, extraResources: Record<string, unknown> = {}): CfnTemplate {
  const template: CfnTemplate = {
    Resources: {
      [FUNCTION_IDS.notify]: fn('notify', 30),
      [FUNCTION_IDS['argocd-health']]: fn('argocd-health', 30),
      [FUNCTION_IDS['request-approval']]: fn('request-approval', 10),
      [FUNCTION_IDS.committer]: fn('committer', 120),
      [COMMIT_DLQ_ID]: {
        Type: 'AWS::SQS::Queue',
        Properties: { FifoQueue: true, MessageRetentionPeriod: 1209600 },
      },
      [COMMIT_QUEUE_ID]: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          FifoQueue: true,
          ContentBasedDeduplication: true,
          VisibilityTimeout: 720,
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': [COMMIT_DLQ_ID, 'Arn'] },
            maxReceiveCount: 3,
          },
        },
        Metadata: { 'shiplane:queue': 'commit' },
      },
      committerfunctionSqsEventSource6F1A2B3C: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': [COMMIT_QUEUE_ID, 'Arn'] },
          FunctionName: { Ref: FUNCTION_IDS.committer },
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
      },
      promotionstatemachine1C9C8EB8: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: definitionString(definition),
          RoleArn: { 'Fn::GetAtt': ['promotionstatemachineRoleA1B2C3D4', 'Arn'] },
        },
      },
      ...extraResources,
    } as NonNullable<CfnTemplate['Resources']>,
  };
  return template;
}

/** A lambda:invoke Task on `handler` with `Payload`. */
export function invoke(handler: keyof typeof FUNCTION_IDS, payload: object, rest: object = {}) {
  return {
    Type: 'Task',
    Resource: 'arn:{{partition}}:states:::lambda:invoke',
    Parameters: { FunctionName: `{{fn:${handler}}}`, Payload: payload },
    ...rest,
  };
}
