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
 * need: contents write on every one. A GitHub App installation covers one owner (user or
 * organization); Shiplane looks up the installation on each owner, so the report names the owners
 * the app must be installed on. A fine-grained token has one resource owner: several owners are
 * warned of with a token.
 */
export function repositoryReport(config: Config): string[] {
  const repositories = configRepositories(config);
  const lines = [`repositories (the GitHub credentials need contents: write on each):`];
  for (const { repository, branches } of repositories) {
    for (const { branch, uses } of branches) lines.push(`  ${repository} ${branch}: ${uses.join('; ')}`);
  }
  const ownerOf = (repository: string) => repository.split('/')[0] ?? repository;
  const owners: string[] = [];
  for (const owner of [config.gitops.repository, ...repositories.map(({ repository }) => repository)].map(
    ownerOf,
  )) {
    if (!owners.some((known) => known.toLowerCase() === owner.toLowerCase())) owners.push(owner);
  }
  const { app } = config.gitops.github;
  if (app) {
    const pinned =
      app.installationId === undefined ? '' : ` (installation ${app.installationId} on ${owners[0]})`;
    lines.push(
      owners.length === 1
        ? `GitHub App ${app.appId}: install it on ${owners[0]}${pinned}`
        : `GitHub App ${app.appId}: install it on each of ${owners.join(', ')}${pinned}; Shiplane looks up the installation on each owner`,
    );
  } else if (owners.length > 1) {
    lines.push(
      `warning: the repositories have ${owners.length} owners (${owners.join(', ')}); a fine-grained token has one resource owner and reaches only its repositories: use a token that reaches them all (a classic token with repo scope), or a GitHub App installed on each owner`,
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
