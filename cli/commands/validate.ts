/**
 * `shiplane validate [--config FILE]`: checks the config file as synth and start-up will, and prints `ok`
 * or every problem with its key path (`stages[1].approval.timeout: expected a duration …`), exit 1.
 */
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../shared/config/load.js';
import { ConfigError } from '../../shared/errors.js';
import { type Io, processIo } from '../io.js';

/** Validates one file; returns the exit code. */
export async function validate(file: string, io: Io = processIo): Promise<number> {
  try {
    await loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return 1;
  }
  io.out('ok');
  return 0;
}

/** Adds `validate` to the program. */
export function registerValidate(program: Command, io: Io = processIo): void {
  program
    .command('validate')
    .description('check the config file and print ok, or every problem with its key path')
    .option('-c, --config <file>', 'the config file', DEFAULT_CONFIG_FILE)
    .action(async (options: { config: string }) => {
      process.exitCode = await validate(options.config, io);
    });
}
