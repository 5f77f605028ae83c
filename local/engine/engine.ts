/**
 * The local engine: runs the synthesized promotion state machine with aws-local-stepfunctions, calling
 * the handlers in-process. It speaks the Step Functions API's shapes (StartExecution idempotency,
 * SendTaskSuccess/Failure, DescribeExecution, GetExecutionHistory), so the CLI, the sandbox and the tests
 * read a local run the way they would read one in AWS.
 */
import './polyfill.js';
import { randomUUID } from 'node:crypto';
import type { DescribeExecutionOutput, ExecutionListItem, ExecutionStatus } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { HandlerName } from '../../shared/contracts/handlers.js';
import type { TaskTokens } from '../../shared/ports/task-tokens.js';
import { type CfnTemplate, LOCAL_AWS, type LocalDefinition, loadDefinition, statesOf } from './definition.js';
import {
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  ExecutionStoppedSignal,
  InvalidExecutionInputError,
  InvalidNameError,
  LocalDefinitionError,
} from './errors.js';
import { LocalFifoQueue, type QueueActivity, type QueuedMessage } from './fifo-queue.js';
import { ExecutionHistory, type LocalHistoryEvent } from './history.js';
import type { EventLog, JsonValue, RunOptions } from './interpreter-events.js';
import { invokeInProcess, type LocalHandler, type LocalHandlers } from './lambda.js';
import { prepareForRun } from './run-definition.js';
import { createTaskRunner, type TaskRunnerDeps } from './task-runner.js';

import { type LocalTiming, timeoutMs, timingOverrides } from './timing.js';
import { TokenRegistry, type WaitingTask } from './token-registry.js';

export type { LocalTiming } from './timing.js';
export type { WaitingTask } from './token-registry.js';

export interface LocalEngineOptions {
  /** The synthesized CloudFormation template (`synthesizeTemplate(config)`). */
  readonly template: CfnTemplate;
  /** In-process handlers; every handler a Task of the state machine uses must be here. */
  readonly handlers: LocalHandlers;
  readonly timing?: LocalTiming;
  /** The state machine's logical id, when the template has several. */
  readonly stateMachine?: string;
}

/** A started execution. `done` settles (never rejects) when the execution closes. */
export interface StartedExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly startDate: Date;
  readonly done: Promise<ExecutionDescription>;
}

/** DescribeExecution's answer; `input`/`output` are JSON text, as in the API. */
export type ExecutionDescription = DescribeExecutionOutput & {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
};

/** One history event with the execution it belongs to, for live timelines. */
export interface EngineHistoryEvent {
  readonly executionArn: string;
  readonly name: string;
  readonly event: LocalHistoryEvent;
}

/** A message that exhausted its receives on an engine queue. */
export interface DeadLetter {
  readonly queue: string;
  readonly message: QueuedMessage;
}

/** A message for one of the engine's queues from outside the state machine. */
export interface OutsideMessage {
  readonly body: string;
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

export interface EngineEvents {
  event: EngineHistoryEvent;
  queue: QueueActivity;
}

export interface LocalEngine {
  readonly stateMachineArn: string;
  /** The definition as resolved from the template (before the engine's timing changes). */
  readonly definition: StateMachineDefinition;
  /** Answers task tokens; pass it to the committer and the Slack interaction handler. */
  readonly taskTokens: TaskTokens;
  start(input: unknown, name?: string): StartedExecution;
  sendTaskSuccess(token: string, output: unknown): Promise<void>;
  sendTaskFailure(token: string, error: string, cause: string): Promise<void>;
  /** StopExecution: the execution ends ABORTED; its waiting tokens close. */
  stopExecution(
    nameOrArn: string,
    details?: { error?: string; cause?: string },
  ): Promise<ExecutionDescription>;
  describeExecution(nameOrArn: string): ExecutionDescription;
  history(nameOrArn: string): LocalHistoryEvent[];
  /** The tasks whose token the execution waits on now (empty when it waits on none). */
  waitingTasks(nameOrArn: string): WaitingTask[];
  /**
   * SendMessage to one of the engine's queues (by name, URL or `shiplane:queue` role) from another
   * sender than the state machine: delivered to the queue's consumer like the state machine's own.
   */
  sendMessage(queue: string, message: OutsideMessage): { messageId: string; sequenceNumber: string };
  listExecutions(filter?: { status?: ExecutionStatus }): ExecutionListItem[];
  /** Messages the commit queue gave up on. */
  deadLetters(): DeadLetter[];
  /** Subscribes to live events; returns the unsubscribe function. */
  on<K extends keyof EngineEvents>(type: K, listener: (payload: EngineEvents[K]) => void): () => void;
  /** Aborts running executions, stops the queues and waits for in-flight batches. */
  stop(): Promise<void>;
}

interface Execution {
  readonly name: string;
  readonly arn: string;
  readonly inputText: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  /** Set synchronously by stopExecution, before the interpreter reports the abort. */
  stopping: boolean;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  stopDetails: { error?: string; cause?: string };
  readonly history: ExecutionHistory;
  abort: () => void;
  done: Promise<ExecutionDescription>;
}

/** Step Functions' execution-name rule: 1–80 characters, no whitespace, brackets, wildcards or controls. */
function isValidName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(name)) return false;
  return [...name].every((char) => {
    const code = char.codePointAt(0) ?? 0;
    return code > 0x1f && (code < 0x7f || code > 0x9f);
  });
}

/**
 * Creates an engine for the state machine in `template`.
 * @throws LocalDefinitionError when the definition cannot run locally or a handler it needs is missing.
 */
export function createLocalEngine(options: LocalEngineOptions): LocalEngine {
  const loaded = loadDefinition(
    options.template,
    options.stateMachine ? { stateMachine: options.stateMachine } : {},
  );
  const timing = options.timing ?? {};
  validateWithInterpreter(loaded);
  const handlerFor = requireHandlers(loaded, options.handlers);

  const runDefinition = prepareForRun(loaded.definition, (state, declared) =>
    timeoutMs(timing, state, declared),
  );
  const machine = new StateMachine(runDefinition, { validationOptions: { noValidate: true } });
  const states = statesOf(loaded.definition);
  const roleArn = `arn:${LOCAL_AWS.partition}:iam::${LOCAL_AWS.accountId}:role/${loaded.stateMachine.name}-role`;

  const tokens = new TokenRegistry();
  const executions = new Map<string, Execution>();
  const listeners = {
    event: new Set<(e: EngineHistoryEvent) => void>(),
    queue: new Set<(e: QueueActivity) => void>(),
  };
  const emit = <K extends keyof EngineEvents>(type: K, payload: EngineEvents[K]) => {
    for (const listener of listeners[type] as Set<(p: EngineEvents[K]) => void>) {
      try {
        listener(payload);
      } catch {
        // A listener's failure must not break a run.
      }
    }
  };

  let stopped = false;
  const queues = createQueues(loaded, handlerFor, timing, (activity) => emit('queue', activity));
  const { waitTimeOverrides, retryIntervalOverrides } = timingOverrides(states, timing);
  const taskDeps: TaskRunnerDeps = {
    tokens,
    queues,
    handlerFor,
    timing,
    declaredTimeout: (state) => {
      const declared = states.get(state)?.TimeoutSeconds;
      return typeof declared === 'number' ? declared : undefined;
    },
  };

  function find(nameOrArn: string): Execution {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':').pop() ?? '') : nameOrArn;
    const execution = executions.get(name);
    if (!execution) throw new ExecutionDoesNotExistError(`execution ${nameOrArn} does not exist`);
    return execution;
  }

  const describe = (execution: Execution) => describeExecution(execution, loaded.stateMachine.arn);

  function start(input: unknown, requestedName?: string): StartedExecution {
    if (stopped) throw new Error('the local engine has stopped; create a new one to start executions');
    const name = requestedName ?? randomUUID();
    if (!isValidName(name)) {
      throw new InvalidNameError(
        `execution name ${JSON.stringify(name)} must be 1–80 characters without whitespace or special ones`,
      );
    }
    const { inputText, inputJson } = executionInput(input);
    const existing = executions.get(name);
    if (existing) {
      // Step Functions: same name and input while running is the same execution; anything else is an error.
      if (existing.status === 'RUNNING' && existing.inputText === inputText) return handleOf(existing);
      throw new ExecutionAlreadyExistsError(
        existing.status === 'RUNNING'
          ? `execution ${name} is already running with a different input`
          : `execution ${name} already exists (${existing.status})`,
      );
    }

    const arn = `arn:${LOCAL_AWS.partition}:states:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:execution:${loaded.stateMachine.name}:${name}`;
    const execution: Execution = {
      name,
      arn,
      inputText,
      startDate: new Date(),
      status: 'RUNNING',
      stopping: false,
      stopDetails: {},
      history: new ExecutionHistory(
        roleArn,
        (event) => emit('event', { executionArn: arn, name, event }),
        () => execution.stopDetails,
      ),
      abort: () => undefined,
      done: Promise.resolve(undefined as never),
    };
    executions.set(name, execution);

    const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    for (const binding of loaded.tasks.values()) {
      taskResourceLocalHandlers[binding.state] = createTaskRunner(binding, execution, taskDeps);
    }
    const context = contextObject({
      arn,
      name,
      roleArn,
      stateMachine: loaded.stateMachine,
      taskToken: () => tokens.mint(name),
    });
    const runOptions: RunOptions = {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      context,
    };
    const run = machine.run(inputJson, runOptions);
    execution.abort = run.abort;
    // The outcome is read from the event log; the result promise only needs a handler.
    run.result.catch(() => undefined);
    execution.done = followEventLog(execution, run.eventLogs, close).then(() => describe(execution));
    return handleOf(execution);
  }

  function close(
    execution: Execution,
    status: ExecutionStatus,
    details: { output?: string; error?: string; cause?: string },
  ) {
    execution.status = status;
    execution.stopDate = new Date();
    if (details.output !== undefined) execution.output = details.output;
    if (details.error !== undefined) execution.error = details.error;
    if (details.cause !== undefined) execution.cause = details.cause;
    execution.stopping = true;
    tokens.closeExecution(execution.name, new ExecutionStoppedSignal());
  }

  const engine: LocalEngine = {
    stateMachineArn: loaded.stateMachine.arn,
    definition: loaded.definition,
    taskTokens: {
      succeed: async (token, output) => tokens.succeed(token, output),
      fail: async (token, error, cause) => tokens.fail(token, error, cause),
    },
    start,
    sendTaskSuccess: async (token, output) => tokens.succeed(token, output),
    sendTaskFailure: async (token, error, cause) => tokens.fail(token, error, cause),
    async stopExecution(nameOrArn, details = {}) {
      const execution = find(nameOrArn);
      if (execution.status === 'RUNNING') {
        execution.stopDetails = details;
        execution.stopping = true;
        execution.abort();
        // The waiting task ends without a retry or a catch, so nothing runs after the abort.
        tokens.closeExecution(execution.name, new ExecutionStoppedSignal());
        await execution.done;
      }
      return describe(execution);
    },
    describeExecution: (nameOrArn) => describe(find(nameOrArn)),
    history: (nameOrArn) => [...find(nameOrArn).history.events],
    waitingTasks: (nameOrArn) => tokens.waitingTasks(find(nameOrArn).name),
    sendMessage(queueId, message) {
      const named = loaded.queues.find((q) => q.name === queueId || q.url === queueId || q.role === queueId);
      const queue = named ? queues.get(named.url) : undefined;
      if (!queue) throw new Error(`the local engine has no queue ${queueId} with a consumer`);
      const sent = queue.send(message);
      return { messageId: sent.MessageId, sequenceNumber: sent.SequenceNumber };
    },
    listExecutions(filter = {}) {
      return [...executions.values()]
        .filter((e) => !filter.status || e.status === filter.status)
        .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
        .map((e) => ({
          executionArn: e.arn,
          stateMachineArn: loaded.stateMachine.arn,
          name: e.name,
          status: e.status,
          startDate: e.startDate,
          ...(e.stopDate ? { stopDate: e.stopDate } : {}),
        }));
    },
    deadLetters: () =>
      [...queues.values()].flatMap((q) => q.deadLetters.map((message) => ({ queue: q.name, message }))),
    on(type, listener) {
      const set = listeners[type] as Set<typeof listener>;
      set.add(listener);
      return () => set.delete(listener);
    },
    async stop() {
      stopped = true;
      const running = [...executions.values()].filter((e) => e.status === 'RUNNING');
      await Promise.all(
        running.map((e) =>
          engine.stopExecution(e.name, { error: 'Local.EngineStopped', cause: 'the local engine stopped' }),
        ),
      );
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
  return engine;
}

function handleOf(execution: Execution): StartedExecution {
  return {
    executionArn: execution.arn,
    name: execution.name,
    startDate: execution.startDate,
    done: execution.done,
  };
}

/** DescribeExecution's answer for an execution. */
function describeExecution(execution: Execution, stateMachineArn: string): ExecutionDescription {
  return {
    executionArn: execution.arn,
    stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: execution.startDate,
    input: execution.inputText,
    inputDetails: { included: true },
    ...(execution.stopDate ? { stopDate: execution.stopDate } : {}),
    ...(execution.output !== undefined
      ? { output: execution.output, outputDetails: { included: true } }
      : {}),
    ...(execution.error !== undefined ? { error: execution.error } : {}),
    ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
    redriveCount: 0,
  };
}

/** The input as JSON text (as DescribeExecution shows it) and as the value the interpreter runs on. */
function executionInput(input: unknown): { inputText: string; inputJson: JsonValue } {
  try {
    const inputText = input === undefined ? '{}' : JSON.stringify(input);
    return { inputText, inputJson: JSON.parse(inputText) as JsonValue };
  } catch (error) {
    throw new InvalidExecutionInputError(`execution input is not JSON: ${(error as Error).message}`);
  }
}

/** The context object (`$$`) of one execution. */
function contextObject(of: {
  readonly arn: string;
  readonly name: string;
  readonly roleArn: string;
  readonly stateMachine: { readonly arn: string; readonly name: string };
  /** `$$.Task.Token`: read while a state builds its input. */
  readonly taskToken: () => string;
}) {
  return {
    Execution: { Id: of.arn, Name: of.name, RoleArn: of.roleArn, RedriveCount: 0 },
    StateMachine: { Id: of.stateMachine.arn, Name: of.stateMachine.name },
    // Read while the state builds its input, which is when it was entered; RetryCount stays 0.
    State: {
      get EnteredTime() {
        return new Date().toISOString();
      },
      RetryCount: 0,
    },
    Task: {
      get Token() {
        return of.taskToken();
      },
    },
  };
}

type CloseExecution = (
  execution: Execution,
  status: ExecutionStatus,
  details: { output?: string; error?: string; cause?: string },
) => void;

/** Records the interpreter's events in the execution's history and closes it on the final one. */
async function followEventLog(
  execution: Execution,
  eventLogs: AsyncIterable<EventLog>,
  close: CloseExecution,
): Promise<void> {
  for await (const event of eventLogs) {
    execution.history.consume(event);
    switch (event.type) {
      case 'ExecutionSucceeded':
        close(execution, 'SUCCEEDED', { output: JSON.stringify(event.output ?? null) });
        break;
      case 'ExecutionFailed': {
        const failed = execution.history.events.at(-1)?.executionFailedEventDetails;
        close(execution, 'FAILED', { error: failed?.error ?? event.Error, cause: failed?.cause ?? '' });
        break;
      }
      case 'ExecutionAborted':
        close(execution, 'ABORTED', execution.stopDetails);
        break;
      case 'ExecutionTimeout':
        close(execution, 'TIMED_OUT', {});
        break;
    }
  }
}

/** Definitions already validated in this process; validation compiles JSON schemas and takes ~200 ms. */
const validDefinitions = new Set<string>();

/** Validates the definition exactly as the interpreter does, with ARN and path checks on. */
function validateWithInterpreter(loaded: LocalDefinition): void {
  const text = JSON.stringify(loaded.definition);
  if (validDefinitions.has(text)) return;
  try {
    new StateMachine(JSON.parse(text) as StateMachineDefinition);
  } catch (error) {
    throw new LocalDefinitionError(`${loaded.stateMachine.logicalId}: ${(error as Error).message}`);
  }
  validDefinitions.add(text);
}

/** Every Task's handler must be given: a missing one would otherwise fail mid-run, or call AWS. */
function requireHandlers(
  loaded: LocalDefinition,
  handlers: LocalHandlers,
): (name: HandlerName) => LocalHandler {
  for (const binding of loaded.tasks.values()) {
    const fn = binding.kind === 'sqs-send' ? binding.queue.consumer.function : binding.function;
    if (!fn.handler || !handlers[fn.handler]) {
      throw new LocalDefinitionError(
        `state "${binding.state}" needs the ${fn.handler ?? fn.logicalId} handler, which was not given to the local engine`,
      );
    }
    if (binding.waitForTaskToken) {
      const params = JSON.stringify(statesOf(loaded.definition).get(binding.state)?.Parameters ?? {});
      if (!params.includes('$$.Task.Token')) {
        throw new LocalDefinitionError(
          `state "${binding.state}" waits for a task token but its Parameters never pass $$.Task.Token`,
        );
      }
    }
  }
  return (name) => {
    const handler = handlers[name];
    if (!handler) throw new LocalDefinitionError(`no local handler ${name}`);
    return handler;
  };
}

/** One local FIFO queue per queue the definition sends to, consumed by its handler in-process. */
function createQueues(
  loaded: LocalDefinition,
  handlerFor: (name: HandlerName) => LocalHandler,
  timing: LocalTiming,
  onActivity: (activity: QueueActivity) => void,
): Map<string, LocalFifoQueue> {
  const queues = new Map<string, LocalFifoQueue>();
  for (const binding of loaded.tasks.values()) {
    if (binding.kind !== 'sqs-send' || queues.has(binding.queue.url)) continue;
    const { consumer } = binding.queue;
    const handler = handlerFor(consumer.function.handler as HandlerName);
    queues.set(
      binding.queue.url,
      new LocalFifoQueue({
        queue: binding.queue,
        consumer,
        invoke: (event: SQSEvent) => invokeInProcess(handler, consumer.function, event),
        ...(timing.redeliveryDelayMs !== undefined ? { redeliveryDelayMs: timing.redeliveryDelayMs } : {}),
        ...(timing.maxReceiveCount !== undefined ? { maxReceiveCount: timing.maxReceiveCount } : {}),
        onActivity,
      }),
    );
  }
  return queues;
}
