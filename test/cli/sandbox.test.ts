import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSandbox } from '../../cli/commands/sandbox.js';
import type { Io } from '../../cli/io.js';
import { runCli } from './run-cli.js';

const BIN = fileURLToPath(new URL('../../bin/shiplane.js', import.meta.url));

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

/** The environment a user's shell would give: none of the test set-up's Powertools switches. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('POWERTOOLS_') && !name.startsWith('AWS_'),
    ),
  );
}

describe('shiplane sandbox --approve auto --exit --json', () => {
  it('runs the scenario unattended and prints only the JSON summary on stdout, exit 0', async () => {
    // Prepare
    const workdir = await mkdtemp(join(tmpdir(), 'shiplane-cli-sandbox-'));

    // Act
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          BIN,
          'sandbox',
          '--workdir',
          workdir,
          '--port',
          '0',
          '--approve',
          'auto',
          '--exit',
          '--json',
          '--poll',
          '0.2',
        ],
        { env: userEnv(), timeout: 200_000 },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') reject(error);
          else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
        },
      );
    });
    await rm(workdir, { recursive: true, force: true });

    // Assess
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      status: 'SUCCEEDED',
      outcome: 'deployed',
      approval: { decision: 'approved', by: 'aiko.tanaka' },
      tags: { staging: { backend: 'v2.1.6' }, production: { backend: 'v2.1.6' } },
    });
    expect(result.stderr).toContain('Console  →  http://127.0.0.1:');
    expect(result.stderr).toMatch(/approved as aiko\.tanaka: signed block_actions → HTTP 200/);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|No application metrics|"level":/);
  }, 240_000);
});

describe('shiplane sandbox options', () => {
  it('refuses --exit without a scenario to wait for (exit 2), before starting anything', async () => {
    const io = capture();

    const code = await runSandbox(
      {
        workdir: '/nonexistent/never-created',
        port: 0,
        approve: 'manual',
        exit: true,
        scenario: false,
        poll: 1,
      },
      io,
    );

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/--exit waits for the scenario run/);
  });

  it('refuses a --tag ECR would not accept (exit 2), before starting anything', async () => {
    const io = capture();

    const code = await runSandbox(
      {
        workdir: '/nonexistent/never-created',
        port: 0,
        approve: 'manual',
        scenario: true,
        poll: 1,
        tag: 'v2.1.7:bad',
      },
      io,
    );

    expect(code).toBe(2);
    expect(io.errors).toEqual([
      'shiplane sandbox: --tag: "v2.1.7:bad" is not an image tag: it starts with a letter, digit or "_" and holds only letters, digits, ".", "_" and "-"',
    ]);
    expect(existsSync('/nonexistent/never-created')).toBe(false);
  });

  it('refuses a --production-repository that is not another owner/name (exit 2), before starting anything', async () => {
    for (const [productionRepository, problem] of [
      ['itdo-erp-production', 'expected a GitHub repository as owner/name, got "itdo-erp-production"'],
      [
        'ITDO-ERP/itdo-erp-infrastructure',
        "ITDO-ERP/itdo-erp-infrastructure is the sandbox's GitOps repository already; name another one",
      ],
    ] as const) {
      const io = capture();

      const code = await runSandbox(
        {
          workdir: '/nonexistent/never-created',
          port: 0,
          approve: 'manual',
          scenario: true,
          poll: 1,
          productionRepository,
        },
        io,
      );

      expect(code).toBe(2);
      expect(io.errors).toEqual([`shiplane sandbox: --production-repository: ${problem}`]);
      expect(existsSync('/nonexistent/never-created')).toBe(false);
    }
  });

  it('refuses --tag with --no-scenario: there is no push to tag (exit 2)', async () => {
    const io = capture();

    const code = await runSandbox(
      {
        workdir: '/nonexistent/never-created',
        port: 0,
        approve: 'manual',
        scenario: false,
        poll: 1,
        tag: 'v2.1.7',
      },
      io,
    );

    expect(code).toBe(2);
    expect(io.errors[0]).toBe('shiplane sandbox: --tag is the tag the scenario pushes; drop --no-scenario');
  });

  it('refuses to start over under a sandbox that is still running in the folder', async () => {
    // Prepare: a live process stands in for the running sandbox.
    const workdir = await mkdtemp(join(tmpdir(), 'shiplane-cli-running-'));
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await writeFile(
      join(workdir, 'sandbox.json'),
      JSON.stringify({ url: 'http://127.0.0.1:4400', pid: other.pid }),
    );
    const io = capture();

    // Act
    const code = await runSandbox({ workdir, port: 0, approve: 'manual', scenario: true, poll: 1 }, io);
    other.kill();

    // Assess
    expect(code).toBe(1);
    expect(io.errors[0]).toBe(
      `shiplane sandbox: a sandbox is already running in ${workdir} (pid ${other.pid}, http://127.0.0.1:4400); stop it first, or pass --workdir`,
    );
    expect(existsSync(join(workdir, 'repo'))).toBe(false);
    await rm(workdir, { recursive: true, force: true });
  });

  it('refuses an unknown approval mode', async () => {
    const result = await runCli(['sandbox', '--approve', 'maybe']);

    // A usage error, exit 2 like every bad argument.
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/argument 'maybe' is invalid\. Allowed choices are manual, auto, reject/);
  });

  it('lists its options in --help', async () => {
    const result = await runCli(['sandbox', '--help']);

    expect(result.code).toBe(0);
    for (const option of [
      '--workdir',
      '--port',
      '--approve',
      '--exit',
      '--json',
      '--no-scenario',
      '--tag',
      '--poll',
      '--production-repository',
    ]) {
      expect(result.stdout).toContain(option);
    }
  });
});
