import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { freezeCronProblems } from './freeze-cron.js';
import type { Config } from './schema.js';
import { parseConfigWithTagPatterns } from './validate.js';

export { formatPath } from './validate.js';

/**
 * Validates an already-parsed config in full: the schema, tag patterns (RE2) and the freeze
 * windows' cron patterns (croner). Throws ConfigError listing every problem.
 */
export function parseConfig(raw: unknown, source = 'config'): Config {
  return parseConfigWithTagPatterns(raw, source, [freezeCronProblems]);
}

export const DEFAULT_CONFIG_FILE = 'shiplane.config.yaml';

/** Parses YAML text and validates it. YAML syntax errors are reported with line and column. */
export function parseConfigText(text: string, source = DEFAULT_CONFIG_FILE): Config {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((error) => ({
        path: error.linePos ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '(yaml)',
        // The path already says where; keep the first line of the message without its position.
        message: (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  return parseConfig(document.toJS(), source);
}

/** Reads and validates a config file. */
export async function loadConfig(file = DEFAULT_CONFIG_FILE): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [
      { path: '(file)', message: `cannot read ${file}: ${(error as Error).message}` },
    ]);
  }
  return parseConfigText(text, file);
}
