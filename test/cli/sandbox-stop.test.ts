/**
 * `npm start` stopped by a signal, as a terminal or a process manager stops it: the signal goes to
 * the npm process, and the whole sandbox under it must stop — the port closed, no process left
 * behind. npm is started in its own process group, so "no process left" is "the group is empty".
 * A lock left by a sandbox killed with -9 is cleared with a notice, not taken for a running one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment a user's shell would give: none of the test set-up's Powertools switches. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('POWERTOOLS_') && !name.startsWith('AWS_') && !name.startsWith('VITEST'),
    ),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True while any process of the group `pgid` exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts connections on 127.0.0.1:port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `npm start -- …` in its own process group, output collected. */
function npmStart(workdir: string): { npm: ChildProcess; output: () => string } {
  const chunks: string[] = [];
  const npm = spawn(
    'npm',
    ['start', '--silent', '--', '--workdir', workdir, '--port', '0', '--no-scenario'],
    { cwd: ROOT, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  npm.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  npm.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { npm, output: () => chunks.join('') };
}

/** A pid that no process has any more: a process that already ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  const pid = child.pid ?? 0;
  expect(pidAlive(pid)).toBe(false);
  return pid;
}

describe('npm start, stopped by a signal to the npm process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s stops the whole sandbox: port closed, no process left (and a stale lock was cleared at start)',
    async (signal) => {
      // Prepare: the lock of a sandbox killed with -9, then `npm start`, up and serving.
      const workdir = await mkdtemp(join(tmpdir(), 'shiplane-stop-'));
      const stale = await deadPid();
      const stateFile = join(workdir, 'sandbox.json');
      await writeFile(stateFile, JSON.stringify({ url: 'http://127.0.0.1:4400', pid: stale, workdir }));
      const { npm, output } = npmStart(workdir);
      const group = npm.pid ?? 0;
      const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
      try {
        const state = await waitFor(
          'the sandbox to start',
          async () => {
            if (npm.exitCode !== null) throw new Error(`npm start exited early:\n${output()}`);
            const text = await readFile(stateFile, 'utf8').catch(() => '');
            const parsed = text ? (JSON.parse(text) as { url: string; pid: number }) : undefined;
            return parsed && parsed.pid !== stale ? parsed : undefined;
          },
          240_000,
        );
        const port = Number(new URL(state.url).port);
        expect(await portOpen(port)).toBe(true);
        expect(output()).toContain(`cleared a stale lock: the sandbox that ran here (pid ${stale}) is gone`);

        // Act
        process.kill(group, signal);

        // Assess
        const code = await Promise.race([exited, sleep(60_000).then(() => 'still running')]);
        expect(code, output()).toBe(0);
        await waitFor(
          'every process of the group to end',
          async () => (groupAlive(group) ? undefined : true),
          15_000,
        );
        expect(pidAlive(state.pid)).toBe(false);
        expect(await portOpen(port)).toBe(false);
        expect(() => readFileSync(stateFile)).toThrow();
        expect(output()).toContain(`${signal}: stopping the sandbox…`);
      } finally {
        if (groupAlive(group)) process.kill(-group, 'SIGKILL');
        await rm(workdir, { recursive: true, force: true });
      }
    },
    330_000,
  );
});
