/**
 * `shiplane push --sandbox [URL] <app> <tag>`: simulates an ECR push of `app:tag` into a running
 * sandbox (what the console's push form does: `POST /api/push`, through the real intake handler),
 * so a person or a script can produce history. Sandbox only: in AWS, push to ECR.
 */
import type { Command } from 'commander';
import { TerminalError } from '../../shared/errors.js';
import { type Io, processIo } from '../io.js';
import { type SourceDeps, sandboxUrl as sandboxUrlOf } from './runs.js';

export interface PushOptions {
  readonly sandbox?: string | boolean;
  readonly json?: boolean;
}

/** Pushes; returns the exit code (0 started or already there, 1 ignored, failed or unreachable). */
export async function pushToSandbox(
  app: string,
  tag: string,
  options: PushOptions,
  io: Io = processIo,
  deps: SourceDeps = {},
): Promise<number> {
  try {
    if (!options.sandbox) {
      throw new TerminalError(
        'push simulates an ECR push into a sandbox only: pass --sandbox [URL] (in AWS, push the image to ECR)',
      );
    }
    const url = await sandboxUrlOf(options.sandbox, deps);
    const { sandboxPush } = await import('../../local/sandbox/api-client.js');
    const answer = await sandboxPush(url, app, tag);
    if (options.json) io.out(JSON.stringify(answer));
    else if (answer.result === 'started' || answer.result === 'duplicate') io.out(answer.message);
    else io.err(`shiplane push: ${answer.message}`);
    return answer.result === 'started' || answer.result === 'duplicate' ? 0 : 1;
  } catch (error) {
    io.err(`shiplane push: ${(error as Error).message}`);
    return 1;
  }
}

/** Adds `push` to the program. */
export function registerPush(program: Command, io: Io = processIo, deps: SourceDeps = {}): void {
  program
    .command('push')
    .description('simulate an ECR push of app:tag into a running sandbox (as the console form does)')
    .argument('<app>', 'the app (backend or frontend in the sandbox)')
    .argument('<tag>', 'the image tag, e.g. v2.1.7 or v2.1.7-bad')
    .option('--sandbox [url]', 'the running sandbox (default: the one started in this folder)')
    .option('--json', 'print JSON')
    .action(async (app: string, tag: string, options: PushOptions) => {
      process.exitCode = await pushToSandbox(app, tag, options, io, deps);
    });
}
