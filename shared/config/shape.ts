/**
 * The config checked against its schema — everything but the RE2 check of tag patterns and croner's
 * check of freeze cron patterns (freeze-cron.ts), and without the YAML reader. Handlers that never read `apps.*.tags` validate SHIPLANE_CONFIG with this, so
 * re2js stays out of their bundles; that config was checked in full (tag patterns included) at synth,
 * and the intake and the sweep, the handlers that match tags, check them again (validate.ts).
 */
import type * as z from '../contracts/zod.js';
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

function problemsOf(error: z.core.$ZodError, raw: unknown): ConfigProblem[] {
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

/** The validated config, or every problem the schema finds (an empty config is one problem). */
export function checkConfigShape(
  raw: unknown,
): { readonly config: Config; readonly problems: readonly [] } | { readonly problems: ConfigProblem[] } {
  if (raw === undefined || raw === null) {
    return { problems: [{ path: '(root)', message: 'the config is empty' }] };
  }
  const result = configSchema.safeParse(raw);
  return result.success ? { config: result.data, problems: [] } : { problems: problemsOf(result.error, raw) };
}

/**
 * Validates an already-parsed config against the schema, leaving tag patterns unchecked (see the
 * header: only for code that never reads them). Throws ConfigError listing every problem.
 */
export function parseConfigShape(raw: unknown, source = 'config'): Config {
  const checked = checkConfigShape(raw);
  if ('config' in checked) return checked.config;
  throw new ConfigError(source, checked.problems);
}
