/**
 * Turns a synthesized CloudFormation template into a state machine definition the local engine can run:
 * finds the `AWS::StepFunctions::StateMachine`, resolves the intrinsics in its definition to fixed local
 * ARNs and URLs, and binds every Task to an in-process handler through the `shiplane:handler` /
 * `shiplane:queue` metadata. A definition the engine cannot run faithfully is refused here, before
 * anything runs: JSONata, `Assign`, and any Task that would have to call AWS.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  HANDLER_METADATA_KEY,
  HANDLER_NAMES,
  type HandlerName,
  QUEUE_METADATA_KEY,
} from '../../shared/contracts/handlers.js';
import { LocalDefinitionError } from './errors.js';

/** The fixed values pseudo parameters resolve to in a local run. */
export const LOCAL_AWS = {
  partition: 'aws',
  region: 'local',
  accountId: '000000000000',
  urlSuffix: 'amazonaws.com',
  stackName: 'shiplane-local',
} as const;

/** One resource of a CloudFormation template, as `cdk synth` writes it. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** The part of a CloudFormation template the engine reads. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
}

/** A Lambda function of the template. */
export interface LocalFunction {
  readonly logicalId: string;
  /** From `shiplane:handler`; undefined for functions Shiplane does not own (CDK helpers). */
  readonly handler: HandlerName | undefined;
  readonly name: string;
  readonly arn: string;
  /** The function's timeout (CloudFormation default 3 s); sets the handler's remaining time. */
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
}

/** Who consumes a queue: the function of its event source mapping. */
export interface LocalQueueConsumer {
  readonly function: LocalFunction;
  /** @default 10 */
  readonly batchSize: number;
  /** `FunctionResponseTypes: [ReportBatchItemFailures]`: only then is a partial batch response honoured. */
  readonly reportBatchItemFailures: boolean;
}

/** An SQS queue of the template. */
export interface LocalQueue {
  readonly logicalId: string;
  /** From `shiplane:queue` (`commit` for the commit queue). */
  readonly role: string | undefined;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  /** From the redrive policy: receives before a message moves to the dead-letter list. */
  readonly maxReceiveCount: number | undefined;
  readonly consumer: LocalQueueConsumer | undefined;
}

/** How a Task state runs locally. */
export type TaskBinding =
  | {
      readonly kind: 'lambda-invoke';
      readonly state: string;
      readonly resource: string;
      readonly waitForTaskToken: boolean;
      readonly function: LocalFunction & { readonly handler: HandlerName };
    }
  | {
      /** `Resource` is the function ARN itself: the result is the handler's return value. */
      readonly kind: 'lambda-arn';
      readonly state: string;
      readonly resource: string;
      readonly waitForTaskToken: false;
      readonly function: LocalFunction & { readonly handler: HandlerName };
    }
  | {
      readonly kind: 'sqs-send';
      readonly state: string;
      readonly resource: string;
      readonly waitForTaskToken: boolean;
      readonly queue: LocalQueue & { readonly consumer: LocalQueueConsumer };
    };

/** A definition ready for the local engine. */
export interface LocalDefinition {
  readonly definition: StateMachineDefinition;
  readonly stateMachine: { readonly logicalId: string; readonly name: string; readonly arn: string };
  readonly functions: readonly LocalFunction[];
  readonly queues: readonly LocalQueue[];
  /** Keyed by state name (names are unique across the whole definition). */
  readonly tasks: ReadonlyMap<string, TaskBinding>;
}

export interface LoadDefinitionOptions {
  /** The state machine's logical id; needed only when the template has several. */
  readonly stateMachine?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const lambdaArn = (name: string) =>
  `arn:${LOCAL_AWS.partition}:lambda:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:function:${name}`;
const sqsArn = (name: string) =>
  `arn:${LOCAL_AWS.partition}:sqs:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:${name}`;
const sqsUrl = (name: string) =>
  `https://sqs.${LOCAL_AWS.region}.${LOCAL_AWS.urlSuffix}/${LOCAL_AWS.accountId}/${name}`;

/** Reads the template's functions, queues and event source mappings, with their local names. */
class TemplateResources {
  readonly functions = new Map<string, LocalFunction>();
  readonly queues = new Map<string, LocalQueue>();
  private readonly resources: Record<string, CfnResource>;

  constructor(template: CfnTemplate) {
    this.resources = template.Resources ?? {};
    for (const [logicalId, resource] of Object.entries(this.resources)) {
      if (resource.Type === 'AWS::Lambda::Function')
        this.functions.set(logicalId, this.readFunction(logicalId, resource));
    }
    for (const [logicalId, resource] of Object.entries(this.resources)) {
      if (resource.Type === 'AWS::SQS::Queue')
        this.queues.set(logicalId, this.readQueue(logicalId, resource));
    }
    this.bindConsumers();
  }

  get(logicalId: string): CfnResource | undefined {
    return this.resources[logicalId];
  }

  entries(): Array<[string, CfnResource]> {
    return Object.entries(this.resources);
  }

  private readFunction(logicalId: string, resource: CfnResource): LocalFunction {
    const tag = resource.Metadata?.[HANDLER_METADATA_KEY];
    let handler: HandlerName | undefined;
    if (tag !== undefined) {
      if (!HANDLER_NAMES.includes(tag as HandlerName)) {
        throw new LocalDefinitionError(
          `function ${logicalId} has ${HANDLER_METADATA_KEY}: ${JSON.stringify(tag)}, which is not a handler (${HANDLER_NAMES.join(', ')})`,
        );
      }
      handler = tag as HandlerName;
    }
    const declared = resource.Properties?.FunctionName;
    const name = handler ?? (typeof declared === 'string' ? declared : logicalId);
    const timeout = resource.Properties?.Timeout;
    const memory = resource.Properties?.MemorySize;
    return {
      logicalId,
      handler,
      name,
      arn: lambdaArn(name),
      timeoutSeconds: typeof timeout === 'number' ? timeout : 3,
      memorySizeMb: typeof memory === 'number' ? memory : 128,
    };
  }

  private readQueue(logicalId: string, resource: CfnResource): LocalQueue {
    const props = resource.Properties ?? {};
    const tag = resource.Metadata?.[QUEUE_METADATA_KEY];
    const role = typeof tag === 'string' ? tag : undefined;
    const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
    const declared = props.QueueName;
    const base = typeof declared === 'string' ? declared : role ? `shiplane-${role}` : logicalId;
    const name = fifo && !base.endsWith('.fifo') ? `${base}.fifo` : base;
    const redrive = props.RedrivePolicy;
    const maxReceiveCount = isRecord(redrive) ? Number(redrive.maxReceiveCount) : Number.NaN;
    return {
      logicalId,
      role,
      name,
      url: sqsUrl(name),
      arn: sqsArn(name),
      fifo,
      contentBasedDeduplication:
        props.ContentBasedDeduplication === true || props.ContentBasedDeduplication === 'true',
      maxReceiveCount: Number.isInteger(maxReceiveCount) && maxReceiveCount > 0 ? maxReceiveCount : undefined,
      consumer: undefined,
    };
  }

  /** Links each queue to the function its event source mapping invokes. */
  private bindConsumers(): void {
    for (const [logicalId, resource] of Object.entries(this.resources)) {
      if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      const props = resource.Properties ?? {};
      const source = this.resolve(props.EventSourceArn, `${logicalId}.EventSourceArn`);
      const target = this.resolve(props.FunctionName, `${logicalId}.FunctionName`);
      const queue = [...this.queues.values()].find((q) => q.arn === source);
      const fn = [...this.functions.values()].find((f) => f.arn === target || f.name === target);
      if (!queue || !fn) continue;
      const types = Array.isArray(props.FunctionResponseTypes) ? props.FunctionResponseTypes : [];
      const batchSize = typeof props.BatchSize === 'number' ? props.BatchSize : 10;
      this.queues.set(queue.logicalId, {
        ...queue,
        consumer: {
          function: fn,
          batchSize,
          reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
        },
      });
    }
  }

  /** Resolves CloudFormation intrinsics to local values. `where` names the place for errors. */
  resolve(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((item, i) => this.resolve(item, `${where}[${i}]`));
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    const [only] = keys;
    if (keys.length === 1 && only !== undefined && (only === 'Ref' || only.startsWith('Fn::'))) {
      return this.intrinsic(only, value[only], where);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v, `${where}.${k}`)]));
  }

  private intrinsic(fn: string, arg: unknown, where: string): unknown {
    switch (fn) {
      case 'Ref':
        if (typeof arg !== 'string') break;
        return this.ref(arg, where);
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof arg === 'string' ? splitOnce(arg, '.') : Array.isArray(arg) ? arg : [];
        if (typeof id !== 'string' || typeof attribute !== 'string') break;
        return this.getAtt(id, attribute, where);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string' || !Array.isArray(arg[1]))
          break;
        const parts = arg[1].map((part, i) => this.resolve(part, `${where}.Fn::Join[${i}]`));
        return parts.map((part) => asText(part, where)).join(arg[0]);
      }
      case 'Fn::Sub': {
        const [text, variables] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? arg : [];
        if (typeof text !== 'string' || !isRecord(variables)) break;
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
          if (name in variables) return asText(this.resolve(variables[name], where), where);
          const [id, attribute] = splitOnce(name, '.');
          return asText(
            attribute === undefined ? this.ref(id, where) : this.getAtt(id, attribute, where),
            where,
          );
        });
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) break;
        const list = this.resolve(arg[1], where);
        const index = Number(this.resolve(arg[0], where));
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) break;
        return list[index];
      }
    }
    throw new LocalDefinitionError(`${where}: cannot resolve ${fn} ${JSON.stringify(arg)} locally`);
  }

  private ref(name: string, where: string): string {
    switch (name) {
      case 'AWS::Partition':
        return LOCAL_AWS.partition;
      case 'AWS::Region':
        return LOCAL_AWS.region;
      case 'AWS::AccountId':
        return LOCAL_AWS.accountId;
      case 'AWS::URLSuffix':
        return LOCAL_AWS.urlSuffix;
      case 'AWS::StackName':
        return LOCAL_AWS.stackName;
      case 'AWS::StackId':
        return `arn:${LOCAL_AWS.partition}:cloudformation:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:stack/${LOCAL_AWS.stackName}/local`;
    }
    const fn = this.functions.get(name);
    if (fn) return fn.name;
    const queue = this.queues.get(name);
    if (queue) return queue.url;
    const resource = this.resources[name];
    if (!resource) throw new LocalDefinitionError(`${where}: Ref to ${name}, which is not in the template`);
    // Other resources (tables, topics, roles) are only ever named by a local run, never called.
    return resource.Type === 'AWS::SNS::Topic' ? this.genericArn(name, resource) : name;
  }

  private getAtt(id: string, attribute: string, where: string): string {
    const fn = this.functions.get(id);
    if (fn && attribute === 'Arn') return fn.arn;
    const queue = this.queues.get(id);
    if (queue) {
      if (attribute === 'Arn') return queue.arn;
      if (attribute === 'QueueName') return queue.name;
      if (attribute === 'QueueUrl') return queue.url;
    }
    const resource = this.resources[id];
    if (!resource)
      throw new LocalDefinitionError(
        `${where}: Fn::GetAtt ${id}.${attribute}, but ${id} is not in the template`,
      );
    if (attribute === 'Arn' || attribute.endsWith('Arn')) return this.genericArn(id, resource);
    if (attribute.endsWith('Name')) return id;
    throw new LocalDefinitionError(
      `${where}: cannot resolve Fn::GetAtt ${id}.${attribute} (${resource.Type}) locally`,
    );
  }

  private genericArn(id: string, resource: CfnResource): string {
    const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
    return `arn:${LOCAL_AWS.partition}:${service}:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:${id}`;
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function asText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new LocalDefinitionError(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

/** Finds the state machine and parses its definition with every intrinsic resolved. */
function readDefinition(
  resources: TemplateResources,
  options: LoadDefinitionOptions,
): { definition: unknown; logicalId: string; name: string } {
  const machines = resources.entries().filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  let chosen: [string, CfnResource] | undefined;
  if (options.stateMachine) {
    chosen = machines.find(([id]) => id === options.stateMachine);
    if (!chosen) throw new LocalDefinitionError(`the template has no state machine ${options.stateMachine}`);
  } else if (machines.length === 1) {
    chosen = machines[0];
  } else {
    throw new LocalDefinitionError(
      machines.length === 0
        ? 'the template has no AWS::StepFunctions::StateMachine'
        : `the template has ${machines.length} state machines (${machines.map(([id]) => id).join(', ')}); say which one`,
    );
  }
  const [logicalId, resource] = chosen!;
  const props = resource.Properties ?? {};
  const declaredName = props.StateMachineName;
  const name = typeof declaredName === 'string' ? declaredName : logicalId;
  let definition: unknown;
  if (props.DefinitionString !== undefined) {
    let text = asText(resources.resolve(props.DefinitionString, `${logicalId}.DefinitionString`), logicalId);
    const substitutions = props.DefinitionSubstitutions;
    if (isRecord(substitutions)) {
      for (const [key, value] of Object.entries(substitutions)) {
        const resolved = asText(
          resources.resolve(value, `${logicalId}.DefinitionSubstitutions.${key}`),
          logicalId,
        );
        text = text.split(`\${${key}}`).join(resolved);
      }
    }
    try {
      definition = JSON.parse(text);
    } catch (error) {
      throw new LocalDefinitionError(
        `${logicalId}.DefinitionString is not JSON: ${(error as Error).message}`,
      );
    }
  } else if (props.Definition !== undefined) {
    definition = resources.resolve(props.Definition, `${logicalId}.Definition`);
  } else {
    throw new LocalDefinitionError(
      `${logicalId} has no DefinitionString or Definition (an S3 location cannot run locally)`,
    );
  }
  return { definition, logicalId, name };
}

type StateJson = Record<string, unknown>;

/** Every state, including those inside Parallel branches and Map processors. */
function* walkStates(machine: Record<string, unknown>): Generator<[string, StateJson]> {
  const states = machine.States;
  if (!isRecord(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isRecord(state)) continue;
    yield [name, state];
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) if (isRecord(branch)) yield* walkStates(branch);
    }
    for (const key of ['ItemProcessor', 'Iterator']) {
      const nested = state[key];
      if (isRecord(nested)) yield* walkStates(nested);
    }
  }
}

const JSONATA_ONLY_FIELDS = ['Arguments', 'Output'] as const;

/** Refuses what aws-local-stepfunctions 3 would run differently from Step Functions. */
function refuseUnsupported(definition: Record<string, unknown>): void {
  if (definition.QueryLanguage === 'JSONata') {
    throw new LocalDefinitionError(
      'the state machine uses QueryLanguage JSONata; the local engine runs JSONPath only (aws-local-stepfunctions mis-runs JSONata), so generate JSONPath states',
    );
  }
  for (const [name, state] of walkStates(definition)) {
    if (state.QueryLanguage === 'JSONata') {
      throw new LocalDefinitionError(
        `state "${name}" uses QueryLanguage JSONata; the local engine runs JSONPath only (aws-local-stepfunctions mis-runs JSONata)`,
      );
    }
    for (const field of JSONATA_ONLY_FIELDS) {
      if (field in state) {
        throw new LocalDefinitionError(
          `state "${name}" has ${field}, a JSONata field; the local engine runs JSONPath only`,
        );
      }
    }
    const withAssign = [
      state,
      ...(Array.isArray(state.Catch) ? state.Catch : []),
      ...(Array.isArray(state.Choices) ? state.Choices : []),
    ];
    if (withAssign.some((part) => isRecord(part) && 'Assign' in part)) {
      throw new LocalDefinitionError(
        `state "${name}" uses Assign (variables), which aws-local-stepfunctions does not run; keep the data in the state's JSON with ResultPath`,
      );
    }
    if ('ItemReader' in state || 'ResultWriter' in state) {
      throw new LocalDefinitionError(
        `state "${name}" is a distributed Map (ItemReader/ResultWriter reads S3); it cannot run locally`,
      );
    }
  }
}

const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/;
const SQS_SEND = /^arn:aws:states:::sqs:sendMessage(\.waitForTaskToken)?$/;

/** Matches a FunctionName (name, ARN, or either with a qualifier) to a template function. */
function findFunction(resources: TemplateResources, reference: string): LocalFunction | undefined {
  const unqualified = reference.replace(/^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+):[^:]+$/, '$1');
  return [...resources.functions.values()].find(
    (fn) => fn.arn === unqualified || fn.name === reference || fn.name === reference.split(':')[0],
  );
}

function bindTask(resources: TemplateResources, name: string, state: StateJson): TaskBinding {
  const resource = typeof state.Resource === 'string' ? state.Resource : '';
  const params = isRecord(state.Parameters) ? state.Parameters : {};
  const noHandler = (what: string) =>
    new LocalDefinitionError(
      `state "${name}" calls ${resource} ${what}, which has no local handler; nothing may call AWS from a local run`,
    );
  const withHandler = (fn: LocalFunction | undefined, what: string) => {
    if (!fn?.handler) throw noHandler(what);
    return fn as LocalFunction & { readonly handler: HandlerName };
  };

  const invoke = LAMBDA_INVOKE.exec(resource);
  if (invoke) {
    if (typeof params.FunctionName !== 'string') {
      throw new LocalDefinitionError(
        `state "${name}" computes its FunctionName at run time; the local engine needs it in the definition to find the handler`,
      );
    }
    const fn = withHandler(findFunction(resources, params.FunctionName), `on ${params.FunctionName}`);
    return {
      kind: 'lambda-invoke',
      state: name,
      resource,
      waitForTaskToken: invoke[1] !== undefined,
      function: fn,
    };
  }
  if (/^arn:aws:lambda:/.test(resource)) {
    const fn = withHandler(findFunction(resources, resource), '');
    return { kind: 'lambda-arn', state: name, resource, waitForTaskToken: false, function: fn };
  }
  const send = SQS_SEND.exec(resource);
  if (send) {
    if (typeof params.QueueUrl !== 'string') {
      throw new LocalDefinitionError(
        `state "${name}" computes its QueueUrl at run time; the local engine needs it in the definition`,
      );
    }
    const queue = [...resources.queues.values()].find((q) => q.url === params.QueueUrl);
    if (!queue) throw noHandler(`on ${params.QueueUrl} (not a queue of the template)`);
    const consumer = queue.consumer ?? defaultConsumer(resources, queue);
    if (!consumer?.function.handler) throw noHandler(`on queue ${queue.logicalId}, whose consumer`);
    return {
      kind: 'sqs-send',
      state: name,
      resource,
      waitForTaskToken: send[1] !== undefined,
      queue: { ...queue, consumer },
    };
  }
  throw noHandler('');
}

/** The commit queue is consumed by the committer even when the template wires it some other way. */
function defaultConsumer(resources: TemplateResources, queue: LocalQueue): LocalQueueConsumer | undefined {
  if (queue.role !== 'commit') return undefined;
  const committer = [...resources.functions.values()].find((fn) => fn.handler === 'committer');
  return committer ? { function: committer, batchSize: 10, reportBatchItemFailures: true } : undefined;
}

/**
 * Reads the promotion state machine out of a synthesized template.
 * @throws LocalDefinitionError when the definition cannot run locally; the message names the state.
 */
export function loadDefinition(template: CfnTemplate, options: LoadDefinitionOptions = {}): LocalDefinition {
  const resources = new TemplateResources(template);
  const { definition, logicalId, name } = readDefinition(resources, options);
  if (!isRecord(definition) || !isRecord(definition.States) || typeof definition.StartAt !== 'string') {
    throw new LocalDefinitionError(`${logicalId}'s definition has no StartAt/States`);
  }
  refuseUnsupported(definition);
  const tasks = new Map<string, TaskBinding>();
  for (const [stateName, state] of walkStates(definition)) {
    if (state.Type === 'Task') tasks.set(stateName, bindTask(resources, stateName, state));
  }
  return {
    definition: definition as unknown as StateMachineDefinition,
    stateMachine: {
      logicalId,
      name,
      arn: `arn:${LOCAL_AWS.partition}:states:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:stateMachine:${name}`,
    },
    functions: [...resources.functions.values()],
    queues: [...resources.queues.values()].map((queue) => ({
      ...queue,
      consumer: queue.consumer ?? defaultConsumer(resources, queue),
    })),
    tasks,
  };
}

/** Every state of a definition by name, nested ones included. */
export function statesOf(definition: StateMachineDefinition): Map<string, StateJson> {
  return new Map(walkStates(definition as unknown as Record<string, unknown>));
}
