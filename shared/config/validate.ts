/**
 * Validation of an already-parsed config, without the YAML reader: the Lambda bundles import this
 * (through runtime.ts), so the YAML parser stays out of them.
 */
import type * as z from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { type Config, configSchema } from './schema.js';

/** Formats a zod issue path as people write it: `stages[1].approval.timeout`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Whether the input has a value at `path` (a missing key is `required`, whatever the schema's message). */
function isMissing(raw: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  let value = raw;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return false;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value === undefined;
}

function problemsOf(error: z.ZodError, raw: unknown): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      // Name the key itself, so the path is where the typo is.
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && isMissing(raw, issue.path)) {
      message = 'required';
    } else if (issue.code === 'invalid_key') {
      message = issue.issues.map((inner) => inner.message).join('; ') || 'invalid key';
    }
    return [{ path: formatPath(issue.path), message }];
  });
}

/** Validates an already-parsed config object. Throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source = 'config'): Config {
  if (raw === undefined || raw === null) {
    throw new ConfigError(source, [{ path: '(root)', message: 'the config is empty' }]);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, problemsOf(result.error, raw));
  return result.data;
}
