/**
 * The task inputs the state machine writes, typed against the contracts the handlers parse them with
 * (shared/contracts/tasks.ts). A payload is written as `taskInput<CommitRequest>({...})`: each field is
 * the value itself or a JsonPath the run resolves to it, so a field the contract renames, drops or
 * adds as required no longer compiles here, instead of failing the handler's parse at run time.
 */
import type { IResolvable } from 'aws-cdk-lib';
import { TaskInput } from 'aws-cdk-lib/aws-stepfunctions';

/**
 * What JsonPath's helpers return in place of a value: `JsonPath.stringAt`, `jsonMerge` and `format`
 * give string tokens, `objectAt` and `stringToJson` an IResolvable. A string field takes any string,
 * so a `stringAt` token there needs nothing more.
 */
export type JsonPathValue = string | IResolvable;

/**
 * `T` as the state machine writes it: strings and numbers as they are (JsonPath's string and number
 * tokens are strings and numbers), booleans, lists and objects as values or as a JsonPath, objects
 * field by field. Unions are mapped member by member, so a discriminated union (`change.kind`) keeps
 * its members apart.
 */
export type Rendered<T> = T extends string
  ? T
  : T extends number
    ? number
    : T extends boolean
      ? boolean | JsonPathValue
      : T extends ReadonlyArray<infer Item>
        ? ReadonlyArray<Rendered<Item>> | JsonPathValue
        : T extends object
          ? RenderedFields<T> | JsonPathValue
          : T;

/** An object's fields rendered; an optional field may be given as undefined, which leaves it out. */
export type RenderedFields<T> = {
  [K in keyof T]: Rendered<T[K]> | (undefined extends T[K] ? undefined : never);
};

/**
 * The task input for a payload of contract type `T`. Fields given as undefined are left out (how an
 * optional setting such as `valuesPath` stays absent), so the written payload has exactly the
 * fields that are set.
 */
export function taskInput<T>(fields: RenderedFields<T>): TaskInput {
  return TaskInput.fromObject(withoutUndefined(fields) as Record<string, unknown>);
}

/** Plain objects only: tokens and IResolvables are class instances and pass through untouched. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .map(([key, field]) => [key, withoutUndefined(field)]),
  );
}
