/**
 * Validation of an already-parsed config, in full: the schema and the RE2 check of tag patterns.
 * Without the YAML reader (load.ts adds it), so the intake's bundle can import this.
 */
import { ConfigError } from '../errors.js';
import type { Config } from './schema.js';
import { checkConfigShape } from './shape.js';
import { tagPatternProblems } from './tag-patterns.js';

export { formatPath } from './shape.js';

/** Validates an already-parsed config object. Throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source = 'config'): Config {
  const checked = checkConfigShape(raw);
  const problems = [...checked.problems, ...tagPatternProblems(raw)];
  if ('config' in checked && problems.length === 0) return checked.config;
  throw new ConfigError(source, problems);
}
