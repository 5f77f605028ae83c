/**
 * `shiplane sandbox` (`npm start`): the whole pipeline on this machine — stand-ins for GitHub,
 * Argo CD, Slack and Secrets Manager, the local engine with the real handlers, the console page —
 * and an ECR push of `itdo-erp/backend:v2.1.6` (or `--tag TAG`) to watch. Ctrl-C stops everything.
 *
 * `--approve auto --exit --json` runs the scenario unattended: it approves through the signed Slack
 * path, waits for the end and prints a JSON summary on stdout (the timeline goes to stderr).
 */
import { type Command, Option } from 'commander';
import { quietHandlers } from '../../local/quiet-handlers.js';
import { imageTagProblem } from '../../local/sandbox/ecr-push.js';
import { DEFAULT_PORT, DEFAULT_WORKDIR } from '../../local/sandbox/paths.js';
import { productionRepositoryProblem } from '../../local/sandbox/sandbox-config.js';
import { TerminalError } from '../../shared/errors.js';
import { parsePort, parseSeconds } from '../arguments.js';
import { type Io, processIo } from '../io.js';

export interface SandboxCommandOptions {
  readonly workdir: string;
  readonly port: number;
  readonly approve: 'manual' | 'auto' | 'reject';
  readonly exit?: boolean;
  readonly json?: boolean;
  readonly scenario: boolean;
  readonly poll: number;
  /** The tag the scenario pushes instead of v2.1.6. */
  readonly tag?: string;
  /** Production's overlay in its own GitOps repository (owner/name). */
  readonly productionRepository?: string;
}

export interface SandboxCommandDeps {
  /** Resolves when the sandbox should stop (Ctrl-C); the CLI wires SIGINT/SIGTERM. */
  readonly stopSignal?: Promise<void>;
  readonly color?: boolean;
}

/** Runs the sandbox; returns the exit code. */
export async function runSandbox(
  options: SandboxCommandOptions,
  io: Io = processIo,
  deps: SandboxCommandDeps = {},
): Promise<number> {
  if (options.exit && !options.scenario) {
    io.err('shiplane sandbox: --exit waits for the scenario run; drop --no-scenario');
    return 2;
  }
  if (options.tag !== undefined) {
    if (!options.scenario) {
      io.err('shiplane sandbox: --tag is the tag the scenario pushes; drop --no-scenario');
      return 2;
    }
    const problem = imageTagProblem(options.tag);
    if (problem) {
      io.err(`shiplane sandbox: --tag: ${problem}`);
      return 2;
    }
  }
  if (options.productionRepository !== undefined) {
    const problem = productionRepositoryProblem(options.productionRepository);
    if (problem) {
      io.err(`shiplane sandbox: --production-repository: ${problem}`);
      return 2;
    }
  }
  quietHandlers();
  // Loaded here: CDK synthesis and the engine are heavy, and other commands must stay quick.
  const { startSandbox } = await import('../../local/sandbox/sandbox.js');
  const { exitCodeOf } = await import('./run.js');
  // With --json, stdout carries only the summary; the live timeline goes to stderr.
  const write = options.json ? io.err : io.out;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({
      workdir: options.workdir,
      port: options.port,
      approve: options.approve,
      scenario: options.scenario,
      ...(options.tag === undefined ? {} : { tag: options.tag }),
      ...(options.productionRepository === undefined
        ? {}
        : { productionRepository: options.productionRepository }),
      pollSeconds: options.poll,
      write,
      color: deps.color ?? false,
    });
  } catch (error) {
    // A sandbox already running here, or a port taken: say what to do instead of a stack trace.
    if (!(error instanceof TerminalError)) throw error;
    io.err(`shiplane sandbox: ${error.message}`);
    return 1;
  }
  try {
    if (options.exit) {
      const execution = sandbox.scenarioExecution;
      if (!execution) {
        io.err('shiplane sandbox: the scenario push started no run');
        return 1;
      }
      if (options.approve === 'manual') write(`approve or reject in the console: ${sandbox.url}/`);
      const stopped = deps.stopSignal?.then(() => 'stopped' as const);
      const ended = await Promise.race([
        sandbox.waitForRun(execution).then(() => 'ended' as const),
        ...(stopped ? [stopped] : []),
      ]);
      if (ended === 'stopped') return 130;
      const summary = await sandbox.summary(execution);
      if (options.json) io.out(JSON.stringify(summary));
      else {
        write('');
        write(`${summary.execution}: ${summary.status} · ${summary.outcome ?? 'no outcome'}`);
        for (const [environment, tags] of Object.entries(summary.tags)) {
          write(
            `  ${environment.padEnd(11)} ${Object.entries(tags)
              .map(([app, tag]) => `${app} ${tag ?? '-'}`)
              .join('  ')}`,
          );
        }
      }
      return exitCodeOf(summary.outcome ?? 'failed');
    }
    write('');
    write(`Watch and approve in the console: ${sandbox.url}/   ·   Ctrl-C stops everything.`);
    await (deps.stopSignal ?? new Promise<void>(() => undefined));
    return 0;
  } finally {
    await sandbox.stop();
  }
}

/** Adds `sandbox` to the program. */
export function registerSandbox(program: Command, io: Io = processIo): void {
  program
    .command('sandbox')
    .description('run the whole pipeline on this machine, with a console page (what `npm start` runs)')
    .option('--workdir <dir>', 'work folder (started over at every start)', DEFAULT_WORKDIR)
    .option(
      '-p, --port <port>',
      'port of the console and the Slack interaction endpoint',
      parsePort,
      DEFAULT_PORT,
    )
    .addOption(
      new Option('--approve <mode>', 'who decides approvals: you in the console, or the sandbox at once')
        .choices(['manual', 'auto', 'reject'])
        .default('manual'),
    )
    .option('--exit', 'exit when the scenario run ends (exit code as `shiplane run`)')
    .option('--json', 'print a JSON summary on stdout (with --exit); the timeline goes to stderr')
    .option('--no-scenario', 'do not push itdo-erp/backend:v2.1.6 at start')
    .option('--tag <tag>', 'push itdo-erp/backend:<tag> at start instead of v2.1.6 (e.g. v2.1.7-bad)')
    .option('--poll <seconds>', 'seconds between Argo CD checks', parseSeconds, 1)
    .option(
      '--production-repository <owner/name>',
      'keep production in its own GitOps repository (a second GitHub stand-in); its commit links point there',
    )
    .action(async (options: SandboxCommandOptions) => {
      const signals = stopOnSignals(io);
      try {
        process.exitCode = await runSandbox(options, io, {
          stopSignal: signals.received,
          color: Boolean(process.stdout.isTTY) && !options.json,
        });
      } finally {
        signals.dispose();
      }
      // Everything is closed; a handle some library left open must not keep the process (and the
      // terminal) waiting. Unref'd: a clean exit happens first.
      setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
    });
}

/** The signals that stop the sandbox: Ctrl-C, `kill`, a closed terminal. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** How long the sandbox may take to close everything after a signal before it exits regardless. */
const STOP_DEADLINE_MS = 20_000;
const EXIT_GRACE_MS = 2_000;

/**
 * Resolves `received` at the first stop signal. Later signals are absorbed: Ctrl-C reaches the
 * sandbox twice under `npm start` (from the terminal, and forwarded by npm), and the second must
 * not kill it halfway through closing. Should closing hang, the process exits after a deadline, so
 * no sandbox outlives the signal holding its port.
 */
export function stopOnSignals(io: Io): { received: Promise<void>; dispose(): void } {
  let resolve: () => void = () => undefined;
  const received = new Promise<void>((done) => {
    resolve = done;
  });
  let first: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first) return;
    first = signal;
    io.err(`${signal}: stopping the sandbox…`);
    setTimeout(() => {
      io.err(`shiplane sandbox: still closing ${STOP_DEADLINE_MS / 1000}s after ${signal}; exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    resolve();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    received,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}
