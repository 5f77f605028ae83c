/** Types aws-local-stepfunctions uses but does not export, derived from its public API. */
import type { StateMachine } from 'aws-local-stepfunctions';

type Run = ReturnType<StateMachine['run']>;

/** One event of the interpreter's event log. */
export type EventLog = Run['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** The options of `StateMachine.run`. */
export type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;

/** Any JSON value the interpreter passes around. */
export type JsonValue = Parameters<StateMachine['run']>[0];
