/**
 * One running sandbox for a test file: started in a temporary folder before the file's tests (the
 * Argo CD stand-in ticking only when asked, Wait states not waiting, the terminal's lines kept) and
 * stopped, its folder removed, after them. With the helpers the end-to-end sandbox tests share:
 * a captured CLI io, a run's outcome, and a run's Slack thread.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Io } from '../../../cli/io.js';
import { quietHandlers } from '../../../local/quiet-handlers.js';
import type { Sandbox, SandboxOptions } from '../../../local/sandbox/sandbox.js';

export interface SandboxFixture {
  /** The running sandbox (set once the file's `beforeAll` has run). */
  readonly sandbox: Sandbox;
  /** The temporary folder it runs in. */
  readonly workdir: string;
  /** What it wrote to its terminal, line by line. */
  readonly terminal: string[];
}

export interface SandboxFixtureOptions
  extends Omit<SandboxOptions, 'workdir' | 'port' | 'pollSeconds' | 'argoTickMs' | 'write'> {
  /** Runs after the start, inside `beforeAll` (e.g. the releases the file's tests build on). */
  readonly ready?: (fixture: SandboxFixture) => Promise<void>;
  /** How long the start and `ready` may take, in milliseconds. @default 120_000 */
  readonly timeoutMs?: number;
}

/** Starts a sandbox for the calling test file (`name` tells its temporary folder apart). */
export function useSandbox(name: string, options: SandboxFixtureOptions = {}): SandboxFixture {
  const { ready, timeoutMs = 120_000, ...sandboxOptions } = options;
  const terminal: string[] = [];
  let sandbox: Sandbox | undefined;
  let workdir: string | undefined;
  const fixture: SandboxFixture = {
    get sandbox() {
      if (!sandbox) throw new Error('the sandbox is not started yet (use it inside a test)');
      return sandbox;
    },
    get workdir() {
      if (!workdir) throw new Error('the sandbox is not started yet (use it inside a test)');
      return workdir;
    },
    terminal,
  };

  beforeAll(async () => {
    quietHandlers();
    const { startSandbox } = await import('../../../local/sandbox/sandbox.js');
    workdir = await mkdtemp(join(tmpdir(), `shiplane-sandbox-${name}-`));
    sandbox = await startSandbox({
      ...sandboxOptions,
      workdir,
      port: 0,
      pollSeconds: 0,
      argoTickMs: 60_000,
      write: (line) => terminal.push(line),
    });
    await ready?.(fixture);
  }, timeoutMs);

  afterAll(async () => {
    await sandbox?.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  return fixture;
}

/** A CLI io that keeps what the command prints. */
export function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

/** Waits for a run to end; its outcome, or its error when it failed without one. */
export async function outcomeOf(sandbox: Sandbox, execution: string): Promise<unknown> {
  const description = await sandbox.waitForRun(execution);
  return description.output ? JSON.parse(description.output).outcome : description.error;
}

/** A run's Slack thread: the parent's text and the replies', oldest first. */
export function threadOf(
  sandbox: Sandbox,
  execution: string,
): { parent: string | undefined; replies: Array<string | undefined> } {
  const messages = sandbox.slack.messages();
  const parent = messages.find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(execution));
  return {
    parent: parent?.text,
    replies: messages
      .filter((m) => parent && m.thread_ts === parent.ts && m.ts !== parent.ts)
      .map((m) => m.text),
  };
}
