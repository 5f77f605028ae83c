import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../../shared/config/load.js';
import { ConfigError, type ConfigProblem } from '../../../shared/errors.js';

/** A config document as plain data; tests reach into it freely to break one thing at a time. */
// biome-ignore lint/suspicious/noExplicitAny: a test edits arbitrary keys of the YAML document.
export type RawConfig = Record<string, any>;

/** The shipped example config, as plain data a test may change. */
export function shippedConfig(): RawConfig {
  return parseDocument(readFileSync('shiplane.config.yaml', 'utf8')).toJS();
}

/** The problems a config has; fails the test when it is valid. */
export function problemsOf(raw: unknown): ConfigProblem[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the config to be invalid, but it is valid');
}
