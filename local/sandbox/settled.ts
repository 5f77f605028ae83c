/** Waiting for a local run to end, for the sandbox and `shiplane run`. */
import type { ExecutionDescription } from '../engine/index.js';
import type { LocalRuntime } from './runtime.js';

const TERMINAL_EVENT = /^Execution(Succeeded|Failed|Aborted|TimedOut)$/;

/**
 * Resolves with the run's description once it has ended. The engine emits the closing history event
 * just before it records the status, so the description is read once the status is no longer RUNNING.
 */
export function settled(runtime: LocalRuntime, execution: string): Promise<ExecutionDescription> {
  const ended = () => runtime.engine.describeExecution(execution).status !== 'RUNNING';
  return new Promise<ExecutionDescription>((done) => {
    const finish = () => {
      if (ended()) done(runtime.engine.describeExecution(execution));
      else setTimeout(finish, 10);
    };
    if (ended() || runtime.engine.history(execution).some((event) => TERMINAL_EVENT.test(event.type))) {
      finish();
      return;
    }
    const off = runtime.engine.on('event', ({ name, event }) => {
      if (name !== execution || !TERMINAL_EVENT.test(event.type ?? '')) return;
      off();
      finish();
    });
  });
}
