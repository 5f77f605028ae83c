/**
 * Calls a handler in-process the way Lambda would: the event and the result cross a JSON boundary (so a
 * handler can neither share objects with the engine nor return something Lambda could not serialise),
 * and the context carries what Powertools and middy read (function name and ARN, request id, memory,
 * remaining time from the function's configured timeout).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { HandlerName } from '../../shared/contracts/handlers.js';
import type { LocalFunction } from './definition.js';

/**
 * A handler the engine can call: a real middy handler (`createXHandler(deps)`) or a scripted function.
 * The event type is `never` so that a handler of any event type is accepted.
 */
export type LocalHandler = (event: never, context: Context) => Promise<unknown>;

/** The handlers of a local run, by name; the tasks of the state machine say which ones are needed. */
export type LocalHandlers = Partial<Record<HandlerName, LocalHandler>>;

/** What an invocation produced, as the Lambda service reports it. */
export type InvokeOutcome =
  | { readonly ok: true; readonly requestId: string; readonly payload: unknown }
  | {
      readonly ok: false;
      readonly requestId: string;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace: readonly string[];
    };

const toJson = (value: unknown): unknown => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

/** A Lambda context for one invocation of `fn`. */
export function lambdaContext(fn: LocalFunction, requestId: string = randomUUID()): Context {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const legacy = () => {
    throw new Error(
      'context.done/succeed/fail are not supported by the local engine; return or throw from an async handler',
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: String(fn.memorySizeMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}

/** Invokes `handler` as `fn` with `event`; never throws, like Lambda's Invoke with a function error. */
export async function invokeInProcess(
  handler: LocalHandler,
  fn: LocalFunction,
  event: unknown,
): Promise<InvokeOutcome> {
  const context = lambdaContext(fn);
  const requestId = context.awsRequestId;
  try {
    const call = handler as (event: unknown, context: Context) => Promise<unknown>;
    const result = await call(toJson(event), context);
    return { ok: true, requestId, payload: toJson(result) };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return {
      ok: false,
      requestId,
      errorType: failure.name || 'Error',
      errorMessage: failure.message,
      trace: (failure.stack ?? '').split('\n').filter((line) => line !== ''),
    };
  }
}

/** The `Cause` Step Functions reports for a Lambda function error: the runtime's JSON error document. */
export function lambdaErrorCause(outcome: Extract<InvokeOutcome, { ok: false }>): string {
  return JSON.stringify({
    errorMessage: outcome.errorMessage,
    errorType: outcome.errorType,
    trace: outcome.trace,
  });
}
