/**
 * Validation of an already-parsed config as the handlers that match tags (the intake and the sweep)
 * need it: the schema and the RE2 check of tag patterns. Without the YAML reader and without the
 * cron check of freeze windows (load.ts's parseConfig adds both: the check in full, at validate,
 * synth and local runs), so the intake's bundle can import this.
 */
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { Config } from './schema.js';
import { checkConfigShape } from './shape.js';
import { tagPatternProblems } from './tag-patterns.js';

export { formatPath } from './shape.js';

/**
 * Validates an already-parsed config: its schema, and the tag patterns with RE2, plus any `more`
 * checks of the raw input. Throws ConfigError listing every problem.
 */
export function parseConfigWithTagPatterns(
  raw: unknown,
  source = 'config',
  more: ReadonlyArray<(raw: unknown) => ConfigProblem[]> = [],
): Config {
  const checked = checkConfigShape(raw);
  const problems = [...checked.problems, ...tagPatternProblems(raw), ...more.flatMap((check) => check(raw))];
  if ('config' in checked && problems.length === 0) return checked.config;
  throw new ConfigError(source, problems);
}
