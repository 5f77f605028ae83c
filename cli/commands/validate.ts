/**
 * `shiplane validate [--config FILE]`: checks the config file as synth and start-up will, and prints `ok`
 * and the repositories the config writes (so the GitHub credentials can be checked to reach them all),
 * or every problem with its key path (`stages[1].approval.timeout: expected a duration …`), exit 1.
 */
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import { configRepositories } from '../../shared/config/tag-location.js';
import { ConfigError } from '../../shared/errors.js';
import { type Io, processIo } from '../io.js';

/** Validates one file; returns the exit code. */
export async function validate(file: string, io: Io = processIo): Promise<number> {
  let config: Config;
  try {
    config = await loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return 1;
  }
  io.out('ok');
  for (const line of repositoryReport(config)) io.out(line);
  return 0;
}

/**
 * The repositories and branches the config writes, with what writes each, and what the credentials
 * need: contents write on every one; a GitHub App installation covers one owner (user or
 * organization), and Shiplane uses the one configured installation, so other owners are warned of.
 */
export function repositoryReport(config: Config): string[] {
  const repositories = configRepositories(config);
  const lines = [`repositories (the GitHub credentials need contents: write on each):`];
  for (const { repository, branches } of repositories) {
    for (const { branch, uses } of branches) lines.push(`  ${repository} ${branch}: ${uses.join('; ')}`);
  }
  const ownerOf = (repository: string) => repository.split('/')[0]?.toLowerCase() ?? repository;
  const primary = ownerOf(config.gitops.repository);
  const others = [...new Set(repositories.map(({ repository }) => ownerOf(repository)))].filter(
    (owner) => owner !== primary,
  );
  const { app } = config.gitops.github;
  if (app && others.length > 0) {
    lines.push(
      `warning: GitHub App ${app.appId} installation ${app.installationId} serves ${primary} only; its token cannot reach ${others.join(', ')}, and Shiplane uses that one installation: keep every repository under ${primary}, or use a token that reaches them all`,
    );
  }
  return lines;
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
