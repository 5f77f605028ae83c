/**
 * What a Task state does in a local run, the way Step Functions does it: it records the task's history
 * events, sends to the engine's FIFO queue or invokes the handler in-process, and — for
 * `.waitForTaskToken` — parks on the token until someone answers it, the task times out, or the
 * execution stops.
 */
import { randomUUID } from 'node:crypto';
import type { HandlerName } from '../../shared/contracts/handlers.js';
import { LOCAL_AWS, type TaskBinding } from './definition.js';
import { ExecutionStoppedSignal, TaskFailure } from './errors.js';
import type { LocalFifoQueue } from './fifo-queue.js';
import type { ExecutionHistory, TaskAttempt } from './history.js';
import type { JsonValue } from './interpreter-events.js';
import { type InvokeOutcome, invokeInProcess, type LocalHandler, lambdaErrorCause } from './lambda.js';
import { type LocalTiming, timeoutMs } from './timing.js';
import { MAX_TIMER_MS, type TokenRegistry } from './token-registry.js';

/** The execution a task runs in: set `stopping` and the task ends without a result. */
export interface TaskExecution {
  readonly name: string;
  readonly stopping: boolean;
  readonly history: ExecutionHistory;
}

export interface TaskRunnerDeps {
  readonly tokens: TokenRegistry;
  /** The engine's queues by URL. */
  readonly queues: ReadonlyMap<string, LocalFifoQueue>;
  readonly handlerFor: (name: HandlerName) => LocalHandler;
  /** The TimeoutSeconds a state declares, if any. */
  readonly declaredTimeout: (state: string) => number | undefined;
  readonly timing: LocalTiming;
}

export type TaskRunner = (input: JsonValue) => Promise<JsonValue>;

type Params = Record<string, unknown>;

/** What the service call returned: the task's result, or what it submitted before waiting for a token. */
type Submitted =
  | { readonly kind: 'result'; readonly output: JsonValue }
  | { readonly kind: 'submitted'; readonly output: unknown };

/** The Task wrapper the interpreter calls for `binding`, bound to one execution. */
export function createTaskRunner(
  binding: TaskBinding,
  execution: TaskExecution,
  deps: TaskRunnerDeps,
): TaskRunner {
  const { tokens } = deps;
  const resourceType = binding.kind === 'sqs-send' ? 'sqs' : 'lambda';
  const resource =
    binding.kind === 'lambda-arn'
      ? binding.resource
      : binding.resource.replace(/^arn:aws:states:::[^:]+:/, '');
  const declared = deps.declaredTimeout(binding.state);
  const timeout = timeoutMs(deps.timing, binding.state, declared);

  const fail = (attempt: TaskAttempt, error: string, cause: string): never => {
    attempt.add({ type: 'TaskFailed', taskFailedEventDetails: { resourceType, resource, error, cause } });
    throw new TaskFailure(error, cause);
  };
  const succeed = (attempt: TaskAttempt, output: unknown): JsonValue => {
    attempt.add({
      type: 'TaskSucceeded',
      taskSucceededEventDetails: { resourceType, resource, output: JSON.stringify(output) },
    });
    return output as JsonValue;
  };

  /** sqs:sendMessage to the engine's FIFO queue; the answer is SendMessage's. */
  const sendToQueue = (
    queue: LocalFifoQueue,
    params: Params,
    attempt: TaskAttempt,
    token: string | undefined,
  ) => {
    const body =
      typeof params.MessageBody === 'string'
        ? params.MessageBody
        : JSON.stringify(params.MessageBody ?? null);
    try {
      const sent = queue.send({
        body,
        groupId: typeof params.MessageGroupId === 'string' ? params.MessageGroupId : undefined,
        deduplicationId:
          typeof params.MessageDeduplicationId === 'string' ? params.MessageDeduplicationId : undefined,
      });
      return {
        ...sent,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: randomUUID() },
      };
    } catch (error) {
      if (token) tokens.close(token);
      return fail(attempt, (error as Error).name, (error as Error).message);
    }
  };

  /** lambda:invoke (or the function ARN as Resource) in-process. */
  const invoke = async (
    fn: Extract<TaskBinding, { kind: 'lambda-invoke' | 'lambda-arn' }>,
    input: JsonValue,
    params: Params,
    attempt: TaskAttempt,
    token: string | undefined,
  ): Promise<Submitted> => {
    const event = fn.kind === 'lambda-invoke' ? (params.Payload ?? null) : input;
    const outcome: InvokeOutcome = await invokeInProcess(
      deps.handlerFor(fn.function.handler),
      fn.function,
      event,
    );
    if (execution.stopping) throw new ExecutionStoppedSignal();
    // The function failed before anyone answered the token: the task fails with the function's error.
    if (!outcome.ok && (!token || tokens.isWaiting(token))) {
      if (token) tokens.close(token);
      return fail(attempt, outcome.errorType, lambdaErrorCause(outcome));
    }
    if (fn.kind === 'lambda-arn' && outcome.ok)
      return { kind: 'result', output: succeed(attempt, outcome.payload) };
    return {
      kind: 'submitted',
      output: {
        ExecutedVersion: '$LATEST',
        Payload: outcome.ok ? outcome.payload : null,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: outcome.requestId },
        StatusCode: 200,
      },
    };
  };

  // Runs synchronously up to its first await: the interpreter calls it right after building the input,
  // so the token claimed here is the one that input read.
  return async (input) => {
    if (execution.stopping) throw new ExecutionStoppedSignal();
    const attempt = execution.history.beginAttempt(binding.state, resourceType, resource);
    const params = (
      typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {}
    ) as Params;
    const parameters = JSON.stringify(input);
    attempt.add({
      type: 'TaskScheduled',
      taskScheduledEventDetails: {
        resourceType,
        resource,
        region: LOCAL_AWS.region,
        parameters,
        ...(typeof declared === 'number' ? { timeoutInSeconds: declared } : {}),
      },
    });
    attempt.add({ type: 'TaskStarted', taskStartedEventDetails: { resourceType, resource } });
    // Claimed by every Task, so a token a task without .waitForTaskToken read is never handed on.
    const claimed = tokens.claim(execution.name);
    const token = binding.waitForTaskToken ? claimed : undefined;
    if (binding.waitForTaskToken && !token) {
      return fail(
        attempt,
        'States.Runtime',
        `state "${binding.state}" waits for a task token but never passes $$.Task.Token`,
      );
    }
    // Parked before the message is sent, with what it was scheduled with: its consumer may ask what
    // the run waits for.
    const parked = token
      ? tokens.park(
          token,
          execution.name,
          { state: binding.state, resourceType, resource, parameters },
          timeout ?? MAX_TIMER_MS,
        )
      : undefined;

    let submitted: unknown;
    if (binding.kind === 'sqs-send') {
      submitted = sendToQueue(deps.queues.get(binding.queue.url)!, params, attempt, token);
    } else {
      const called = await invoke(binding, input, params, attempt, token);
      if (called.kind === 'result') return called.output;
      submitted = called.output;
    }

    if (!parked) return succeed(attempt, submitted);
    attempt.add({
      type: 'TaskSubmitted',
      taskSubmittedEventDetails: { resourceType, resource, output: JSON.stringify(submitted) },
    });
    try {
      return succeed(attempt, await parked);
    } catch (error) {
      if (error instanceof ExecutionStoppedSignal) throw error;
      const failure = error as TaskFailure;
      return fail(attempt, failure.name, failure.message);
    }
  };
}
