/**
 * The `shiplane` command. `bin/shiplane.js` (what `npx shiplane` runs) loads this file through tsx and
 * calls `run`; `tsx cli/main.ts …` runs it directly.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { TerminalError } from '../shared/errors.js';
import { registerApprove } from './commands/approve.js';
import { registerMetrics } from './commands/metrics.js';
import { registerPush } from './commands/push.js';
import { registerRetry } from './commands/retry.js';
import { registerRollback } from './commands/rollback.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerShow } from './commands/show.js';
import { registerValidate } from './commands/validate.js';
import { awsFailure, EXIT } from './failures.js';
import { processIo } from './io.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * Every subcommand, in the order `shiplane --help` lists them. To add one, write
 * `cli/commands/<name>.ts` exporting a function that adds it to the program, and add one line here.
 * Every command module is loaded on every run: import heavy dependencies (aws-cdk-lib, the local
 * engine) inside the action with `await import(...)`, so `shiplane validate` stays quick.
 */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  (program) => registerValidate(program),
  (program) => registerSandbox(program),
  (program) => registerRun(program),
  (program) => registerRuns(program),
  (program) => registerShow(program),
  (program) => registerApprove(program),
  (program) => registerRetry(program),
  (program) => registerRollback(program),
  (program) => registerMetrics(program),
  (program) => registerPush(program),
];

/** Builds the program with every command registered. */
export function createProgram(): Command {
  const program = new Command('shiplane')
    .description(
      'Promote container images through GitOps environments: ECR push → staging → approval → production.',
    )
    .version(version)
    .showHelpAfterError()
    // Throw instead of exiting, so `run` decides the exit code (and tests can call it in-process).
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI with `argv` as Node gives it (`[node, script, ...args]`). Returns the exit code. */
export async function run(argv: readonly string[] = process.argv): Promise<number> {
  // The AWS SDK warns on stderr, at its first client, that its releases from 2027 need Node 22: news
  // for whoever upgrades the SDK in package.json, not for someone running a command (whose stderr
  // is one line per failure). Set the variable yourself to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  try {
    await createProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has already printed its own message (usage error, --help, --version). A usage
    // error (a missing or bad option) is exit 2 like every other bad argument; help and version keep 0.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT.usage;
    // An AWS error or a TerminalError says what to fix; anything else is a bug, so show where it happened.
    const aws = awsFailure(error);
    if (aws) {
      processIo.err(`shiplane: ${aws.message}`);
      return aws.code;
    }
    processIo.err(
      error instanceof TerminalError
        ? `shiplane: ${error.message}`
        : `shiplane: ${(error as Error).stack ?? String(error)}`,
    );
    return EXIT.failed;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run();
}
