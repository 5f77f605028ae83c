/**
 * The copy of a definition the interpreter runs. Two things differ from what AWS runs, both so the local
 * run behaves like AWS where aws-local-stepfunctions would not:
 * - every Task gets an explicit TimeoutSeconds: the declared one times the engine's scale (or an
 *   override), or none at all (AWS has no default; the interpreter would time out after 60 s);
 * - `$$.State.Name` in a state's payload templates becomes the literal name (the interpreter has no
 *   per-state context object).
 * The original definition has been validated before this copy is made.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { statesOf } from './definition.js';
import { MAX_TIMER_MS } from './token-registry.js';

/** Decides a Task's timeout in milliseconds; `undefined` means "never" (capped at MAX_TIMER_MS). */
export type TaskTimeoutPolicy = (state: string, declaredSeconds: number | undefined) => number | undefined;

const PAYLOAD_TEMPLATES = ['Parameters', 'ResultSelector', 'ItemSelector'] as const;
const STATE_NAME_PATH = '$$.State.Name';

function withStateName(template: unknown, name: string): unknown {
  if (Array.isArray(template)) return template.map((item) => withStateName(item, name));
  if (typeof template !== 'object' || template === null) return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && value === STATE_NAME_PATH) {
      out[key.slice(0, -2)] = name;
    } else if (key.endsWith('.$') && typeof value === 'string' && value.includes(STATE_NAME_PATH)) {
      // Inside an intrinsic function the path becomes a string literal.
      out[key] = value.split(STATE_NAME_PATH).join(`'${name.replace(/['{}\\]/g, '\\$&')}'`);
    } else {
      out[key] = withStateName(value, name);
    }
  }
  return out;
}

/** Returns the definition to hand to the interpreter. */
export function prepareForRun(
  definition: StateMachineDefinition,
  timeoutFor: TaskTimeoutPolicy,
): StateMachineDefinition {
  const copy = structuredClone(definition) as StateMachineDefinition;
  for (const [name, state] of statesOf(copy)) {
    for (const field of PAYLOAD_TEMPLATES) {
      if (field in state) state[field] = withStateName(state[field], name);
    }
    if (state.Type !== 'Task' || 'TimeoutSecondsPath' in state) continue;
    const declared = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    const ms = timeoutFor(name, declared) ?? MAX_TIMER_MS;
    // The interpreter multiplies by 1000 and ignores 0; keep at least 1 ms and below setTimeout's ceiling.
    state.TimeoutSeconds = Math.min(Math.max(ms, 1), MAX_TIMER_MS) / 1000;
  }
  if (typeof copy.TimeoutSeconds === 'number') {
    copy.TimeoutSeconds = Math.min(copy.TimeoutSeconds * 1000, MAX_TIMER_MS) / 1000;
  }
  return copy;
}
