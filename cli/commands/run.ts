/**
 * `shiplane run --config FILE --event FILE [--port P] [--poll SECONDS] [--json]`: one promotion
 * through the local engine against the endpoints the config names (a real GitHub, Argo CD and
 * Slack, or stand-ins), serving the Slack interaction endpoint at
 * `http://127.0.0.1:P/slack/interactions` while it waits.
 *
 * Exit codes: 0 deployed, superseded (a newer release is already in the stage: nothing failed) or
 * ignored; 1 failed, rejected, expired or blocked (the scan gate); 2 a bad config or event (the
 * message names the problem; nothing has called any service yet).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { quietHandlers } from '../../local/quiet-handlers.js';
import type { RunSummaryJson } from '../../local/sandbox/run-promotion.js';
import { loadConfig } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import { formatSecretRef, type SecretRef } from '../../shared/config/secret-ref.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { isSettledOutcome } from '../../shared/contracts/tasks.js';
import { decideRelease } from '../../shared/domain/release.js';
import { ConfigError, InvalidInputError } from '../../shared/errors.js';
import { ecrImageActionEventSchema } from '../../shared/steps/intake/ecr-event.js';
import { parsePort, parseSeconds } from '../arguments.js';
import { type Io, processIo } from '../io.js';

export const DEFAULT_RUN_PORT = 3000;

export interface RunOptions {
  readonly config: string;
  readonly event: string;
  /** Port of the interaction endpoint. @default 3000 */
  readonly port?: number;
  /** Seconds every Wait state waits (the Argo CD poll interval). @default the config's */
  readonly poll?: number;
  readonly json?: boolean;
}

/** A problem with the command's input: exit 2, nothing called. */
export class RunInputError extends Error {
  override name = 'RunInputError';
}

/** Every secret reference the config holds, with where it is. */
export function secretRefsOf(config: Config): Array<{ path: string; ref: SecretRef }> {
  const refs: Array<{ path: string; ref: SecretRef }> = [];
  const { github } = config.gitops;
  if (github.token) refs.push({ path: 'gitops.github.token', ref: github.token });
  if (github.app) refs.push({ path: 'gitops.github.app.privateKey', ref: github.app.privateKey });
  refs.push({ path: 'argocd.token', ref: config.argocd.token });
  refs.push({ path: 'slack.botToken', ref: config.slack.botToken });
  refs.push({ path: 'slack.signingSecret', ref: config.slack.signingSecret });
  return refs;
}

/**
 * Reads the event file: an EventBridge `ECR Image Action` event, or an SQS event whose first record
 * carries one (what the intake queue delivers).
 */
export function parseEventText(
  text: string,
  file: string,
): ReturnType<typeof ecrImageActionEventSchema.parse> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new RunInputError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const records = (raw as { Records?: unknown } | null)?.Records;
  if (Array.isArray(records)) {
    const body = (records[0] as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'string')
      throw new RunInputError(`${file}: Records[0].body is not an SQS message body`);
    try {
      raw = JSON.parse(body);
    } catch {
      throw new RunInputError(`${file}: Records[0].body is not JSON`);
    }
  }
  try {
    return parseInput(ecrImageActionEventSchema, raw, `the ECR event in ${file}`);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new RunInputError(error.message);
    throw error;
  }
}

export interface ValidatedRun {
  readonly config: Config;
  readonly event: ReturnType<typeof ecrImageActionEventSchema.parse>;
  readonly decision: ReturnType<typeof decideRelease>;
}

/** Everything `run` checks before it calls anything. Throws RunInputError naming the problem. */
export async function validateRun(
  options: Pick<RunOptions, 'config' | 'event'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ValidatedRun> {
  let config: Config;
  try {
    config = await loadConfig(options.config);
  } catch (error) {
    if (error instanceof ConfigError) throw new RunInputError(error.message);
    throw error;
  }
  let text: string;
  try {
    text = await readFile(options.event, 'utf8');
  } catch (error) {
    throw new RunInputError(`cannot read the event file ${options.event}: ${(error as Error).message}`);
  }
  const event = parseEventText(text, options.event);
  const missing = secretRefsOf(config).filter(
    ({ ref }) => ref.source === 'env' && (env[ref.name] === undefined || env[ref.name] === ''),
  );
  if (missing.length > 0) {
    throw new RunInputError(
      `${options.config}: ${missing
        .map(({ path, ref }) => `${path} refers to ${formatSecretRef(ref)}, which is not set`)
        .join('; ')}`,
    );
  }
  return { config, event, decision: decideRelease(event, config) };
}

/** Exit code of a finished run. */
export function exitCodeOf(outcome: RunSummaryJson['outcome']): number {
  // Superseded: a newer release is already in the stage; nothing failed.
  return outcome === 'ignored' || isSettledOutcome(outcome) ? 0 : 1;
}

export interface RunDeps {
  readonly env?: NodeJS.ProcessEnv;
  /** Stops a waiting run (Ctrl-C); the CLI wires SIGINT. */
  readonly signal?: AbortSignal;
}

/** Runs one promotion; returns the exit code. */
export async function runPromotion(
  options: RunOptions,
  io: Io = processIo,
  deps: RunDeps = {},
): Promise<number> {
  let validated: ValidatedRun;
  try {
    validated = await validateRun(options, deps.env);
  } catch (error) {
    if (!(error instanceof RunInputError)) throw error;
    io.err(`shiplane run: ${error.message}`);
    return 2;
  }
  const { decision } = validated;
  if (decision.kind === 'ignored') {
    io.out(`ignored: ${decision.message}`);
    const summary: RunSummaryJson = { execution: null, status: null, outcome: 'ignored', stages: [] };
    if (options.json) io.out(JSON.stringify(summary));
    return 0;
  }
  quietHandlers();
  // Loaded only now: synthesis and the engine are heavy, and a bad input must not wait for them.
  const { runLocalPromotion } = await import('../../local/sandbox/run-promotion.js');
  const summary = await runLocalPromotion(validated, {
    port: options.port ?? DEFAULT_RUN_PORT,
    ...(options.poll !== undefined ? { pollSeconds: options.poll } : {}),
    io,
    env: deps.env ?? process.env,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  if (options.json) io.out(JSON.stringify(summary));
  return exitCodeOf(summary.outcome);
}

/** Adds `run` to the program. */
export function registerRun(program: Command, io: Io = processIo): void {
  program
    .command('run')
    .description('run one promotion through the local engine against the endpoints the config names')
    .requiredOption('-c, --config <file>', 'the config file')
    .requiredOption(
      '-e, --event <file>',
      'an ECR push event (EventBridge JSON, or an SQS event carrying one)',
    )
    .option('-p, --port <port>', 'port of the Slack interaction endpoint', parsePort, DEFAULT_RUN_PORT)
    .option('--poll <seconds>', 'seconds between Argo CD checks (every Wait state)', parseSeconds)
    .option('--json', 'print a JSON summary as the last line')
    .action(async (options: RunOptions) => {
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        process.exitCode = await runPromotion(options, io, { signal: abort.signal });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
