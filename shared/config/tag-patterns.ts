/**
 * The RE2 check of the config's tag patterns (`apps.<name>.tags`), apart from the schema so that
 * only what reads tag patterns carries re2js: the CLI, synth and local runs (through validate.ts),
 * and the handlers that match tags (the intake and the sweep).
 */

import type { ConfigProblem } from '../errors.js';
import { isObject } from './schema.js';
import { formatPath } from './shape.js';
import { tagPatternProblem } from './tag-pattern.js';

/**
 * A problem for each tag pattern RE2 cannot compile. Reads the raw input, so it reports alongside
 * the schema's problems even when other keys are wrong; a `tags` that is not a string is the
 * schema's to report, and an absent one means version tags only (domain/default-tags.ts).
 */
export function tagPatternProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.apps)) return [];
  return Object.entries(raw.apps).flatMap(([name, app]): ConfigProblem[] => {
    const pattern = isObject(app) ? app.tags : undefined;
    if (typeof pattern !== 'string') return [];
    const problem = tagPatternProblem(pattern);
    return problem ? [{ path: formatPath(['apps', name, 'tags']), message: problem }] : [];
  });
}
