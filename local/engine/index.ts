/** The local engine: the synthesized promotion state machine, run in-process. */
export type {
  CfnResource,
  CfnTemplate,
  LocalDefinition,
  LocalFunction,
  LocalQueue,
  TaskBinding,
} from './definition.js';
export { LOCAL_AWS, loadDefinition } from './definition.js';
export type {
  DeadLetter,
  EngineEvents,
  EngineHistoryEvent,
  ExecutionDescription,
  LocalEngine,
  LocalEngineOptions,
  OutsideMessage,
  StartedExecution,
  WaitingTask,
} from './engine.js';
export { createLocalEngine } from './engine.js';
export {
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  InvalidExecutionInputError,
  InvalidNameError,
  InvalidTokenError,
  LocalDefinitionError,
  TaskTimedOutError,
} from './errors.js';
export type { QueueActivity, QueuedMessage } from './fifo-queue.js';
export type { LocalHistoryEvent } from './history.js';
export type { LocalHandler, LocalHandlers } from './lambda.js';
export { lambdaContext } from './lambda.js';
export { engineRunStatus } from './run-status.js';
export type { LocalTiming } from './timing.js';
