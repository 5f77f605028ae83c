import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRuns, parseStatusFilter, registerRuns } from '../../cli/commands/runs.js';
import type { Io } from '../../cli/io.js';
import { executionName, rollbackExecutionName } from '../../shared/domain/execution-name.js';

const MACHINE = 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:ShiplanePromotion';
const execArn = (name: string) =>
  `arn:aws:states:ap-northeast-1:123456789012:execution:ShiplanePromotion:${name}`;
const release = (app: string, tag: string) => JSON.stringify({ release: { app, tag } });

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'ap-northeast-1' });

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(ListExecutionsCommand).resolves({
    executions: [
      {
        name: 'backend-v2.1.7-bad-9c1d2e3f4a5b',
        executionArn: execArn('backend-v2.1.7-bad-9c1d2e3f4a5b'),
        stateMachineArn: MACHINE,
        status: 'FAILED',
        startDate: new Date('2026-11-26T14:00:00Z'),
        stopDate: new Date('2026-11-26T14:01:30Z'),
      },
      {
        name: 'frontend-v1.9.0-1a2b3c4d5e6f',
        executionArn: execArn('frontend-v1.9.0-1a2b3c4d5e6f'),
        stateMachineArn: MACHINE,
        status: 'SUCCEEDED',
        startDate: new Date('2026-11-26T13:50:00Z'),
        stopDate: new Date('2026-11-26T13:55:00Z'),
      },
      {
        name: 'backend-v2.1.6-4c1f5e2b8a9d',
        executionArn: execArn('backend-v2.1.6-4c1f5e2b8a9d'),
        stateMachineArn: MACHINE,
        status: 'SUCCEEDED',
        startDate: new Date('2026-11-26T13:40:02Z'),
        stopDate: new Date('2026-11-26T13:52:17Z'),
      },
    ],
  });
  sfnMock
    .on(DescribeExecutionCommand, { executionArn: execArn('backend-v2.1.7-bad-9c1d2e3f4a5b') })
    .resolves({
      status: 'FAILED',
      name: 'backend-v2.1.7-bad-9c1d2e3f4a5b',
      input: release('backend', 'v2.1.7-bad'),
      error: 'Shiplane.Degraded',
    });
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('frontend-v1.9.0-1a2b3c4d5e6f') }).resolves({
    status: 'SUCCEEDED',
    input: release('frontend', 'v1.9.0'),
    output: JSON.stringify({ outcome: 'rejected' }),
  });
  sfnMock.on(DescribeExecutionCommand, { executionArn: execArn('backend-v2.1.6-4c1f5e2b8a9d') }).resolves({
    status: 'SUCCEEDED',
    input: release('backend', 'v2.1.6'),
    output: JSON.stringify({ outcome: 'deployed' }),
  });
});

describe('shiplane runs against a deployed stack', () => {
  it('lists runs with app, tag, status and outcome', async () => {
    // Prepare
    const io = capture();

    // Act
    const code = await listRuns({ stateMachine: MACHINE }, io, { sfn });

    // Assess
    expect(code).toBe(0);
    expect(io.lines[0]).toMatch(/^EXECUTION\s+APP\s+TAG\s+STATUS\s+OUTCOME\s+STARTED\s+TOOK$/);
    expect(io.lines[1]).toMatch(
      /^backend-v2\.1\.7-bad-9c1d2e3f4a5b\s+backend\s+v2\.1\.7-bad\s+FAILED\s+failed\s+2026-11-26 14:00:00Z\s+1m30s$/,
    );
    expect(io.lines[2]).toMatch(/frontend\s+v1\.9\.0\s+SUCCEEDED\s+rejected/);
    expect(io.lines[3]).toMatch(/backend\s+v2\.1\.6\s+SUCCEEDED\s+deployed\s+.*12m15s$/);
  });

  it('shows a manual rollback run with the stage it rolled back', async () => {
    const name = 'backend-staging-rollback-v2.1.5-1';
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name,
          executionArn: execArn(name),
          stateMachineArn: MACHINE,
          status: 'SUCCEEDED',
          startDate: new Date('2026-11-26T15:00:00Z'),
          stopDate: new Date('2026-11-26T15:02:00Z'),
        },
      ],
    });
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(name) }).resolves({
      status: 'SUCCEEDED',
      input: JSON.stringify({
        release: { app: 'backend', tag: 'v2.1.5' },
        rollback: { stage: 'staging', from: { tag: 'v2.1.6' }, reason: 'checkout errors' },
      }),
      output: JSON.stringify({ outcome: 'deployed' }),
    });
    const io = capture();
    const json = capture();

    await listRuns({ stateMachine: MACHINE }, io, { sfn });
    await listRuns({ stateMachine: MACHINE, json: true }, json, { sfn });

    expect(io.lines[1]).toMatch(
      /^backend-staging-rollback-v2\.1\.5-1\s+backend\s+v2\.1\.5 \(staging rollback\)\s+SUCCEEDED\s+deployed/,
    );
    expect(JSON.parse(json.lines[0] ?? '{}').runs[0]).toMatchObject({ tag: 'v2.1.5', rollback: 'staging' });
  });

  it('filters by app using the execution name prefix and the run input', async () => {
    const io = capture();

    const code = await listRuns({ stateMachine: MACHINE, app: 'backend', json: true }, io, { sfn });

    expect(code).toBe(0);
    const { runs } = JSON.parse(io.lines[0] ?? '{}') as { runs: Array<{ execution: string; app: string }> };
    expect(runs.map((run) => run.execution)).toEqual([
      'backend-v2.1.7-bad-9c1d2e3f4a5b',
      'backend-v2.1.6-4c1f5e2b8a9d',
    ]);
  });

  describe('--app my beside an app my-app', () => {
    const DIGEST = `sha256:${'7f5b2640fe6f'.repeat(5)}abcd`;
    /** 30 runs of my-app (their names start `my-`), then older ones of my, both kinds of name. */
    function twoApps(): Array<{ name: string; app: string; tag: string }> {
      const myApp = Array.from({ length: 30 }, (_, i) => ({
        name: executionName('my-app', `v1.${29 - i}`, DIGEST),
        app: 'my-app',
        tag: `v1.${29 - i}`,
      }));
      const my = [
        { name: executionName('my', 'app-v9', DIGEST), app: 'my', tag: 'app-v9' },
        { name: rollbackExecutionName('my', 'prod', 'v0.9', 1), app: 'my', tag: 'v0.9' },
      ];
      return [...myApp, ...my];
    }

    beforeEach(() => {
      const runs = twoApps();
      sfnMock.on(ListExecutionsCommand).resolves({
        executions: runs.map((run, i) => ({
          name: run.name,
          executionArn: execArn(run.name),
          stateMachineArn: MACHINE,
          status: 'SUCCEEDED',
          startDate: new Date(Date.parse('2026-11-26T14:00:00Z') - i * 60_000),
        })),
      });
      for (const run of runs) {
        sfnMock
          .on(DescribeExecutionCommand, { executionArn: execArn(run.name) })
          .resolves({ status: 'SUCCEEDED', name: run.name, input: release(run.app, run.tag) });
      }
    });

    it('lists the runs of my only, however many runs of my-app come first', async () => {
      const io = capture();

      const code = await listRuns({ stateMachine: MACHINE, app: 'my', limit: 5, json: true }, io, { sfn });

      expect(code).toBe(0);
      const { runs } = JSON.parse(io.lines[0] ?? '{}') as { runs: Array<{ app: string; tag: string }> };
      expect(runs).toEqual([
        expect.objectContaining({ app: 'my', tag: 'app-v9' }),
        expect.objectContaining({ app: 'my', tag: 'v0.9' }),
      ]);
    });

    it('lists the runs of my-app only, and stops at --limit', async () => {
      const io = capture();

      await listRuns({ stateMachine: MACHINE, app: 'my-app', limit: 3, json: true }, io, { sfn });

      const { runs } = JSON.parse(io.lines[0] ?? '{}') as { runs: Array<{ app: string; tag: string }> };
      expect(runs.map((run) => `${run.app} ${run.tag}`)).toEqual([
        'my-app v1.29',
        'my-app v1.28',
        'my-app v1.27',
      ]);
    });
  });

  it('asks Step Functions for SUCCEEDED runs and keeps the deployed ones for --status deployed', async () => {
    const io = capture();

    await listRuns({ stateMachine: MACHINE, status: 'deployed', json: true }, io, { sfn });

    expect(sfnMock.commandCalls(ListExecutionsCommand)[0]?.args[0].input).toMatchObject({
      stateMachineArn: MACHINE,
      statusFilter: 'SUCCEEDED',
    });
    const { runs } = JSON.parse(io.lines[0] ?? '{}') as { runs: Array<{ outcome: string }> };
    expect(runs.map((run) => run.outcome)).toEqual(['deployed']);
  });

  it('finds the promotion state machine by name when none is given', async () => {
    sfnMock.on(ListStateMachinesCommand).resolves({
      stateMachines: [
        {
          name: 'unrelated',
          stateMachineArn: 'arn:aws:states:x:1:stateMachine:unrelated',
          type: 'STANDARD',
          creationDate: new Date(),
        },
        { name: 'ShiplanePromotion', stateMachineArn: MACHINE, type: 'STANDARD', creationDate: new Date() },
      ],
    });
    const io = capture();

    const code = await listRuns({ limit: 1 }, io, { sfn, env: {} });

    expect(code).toBe(0);
    expect(sfnMock.commandCalls(ListExecutionsCommand)[0]?.args[0].input.stateMachineArn).toBe(MACHINE);
    expect(io.lines).toHaveLength(2);
  });

  it('says what to do when no state machine can be found', async () => {
    sfnMock.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
    const io = capture();

    const code = await listRuns({}, io, { sfn, env: {} });

    expect(code).toBe(7);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toMatch(/no state machine.*pass --state-machine ARN.*StateMachineArn/);
  });

  it('refuses an unknown status with exit code 2 and calls nothing', async () => {
    const io = capture();

    const code = await listRuns({ stateMachine: MACHINE, status: 'great' }, io, { sfn });

    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(/unknown status "great"/);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('parseStatusFilter', () => {
  it.each([
    ['deployed', { sfnStatus: 'SUCCEEDED', outcome: 'deployed' }],
    ['failed', { sfnStatus: 'FAILED', outcome: 'failed' }],
    ['superseded', { sfnStatus: 'SUCCEEDED', outcome: 'superseded' }],
    ['running', { sfnStatus: 'RUNNING' }],
    ['timed-out', { sfnStatus: 'TIMED_OUT' }],
  ])('reads %s', (text, filter) => {
    expect(parseStatusFilter(text)).toEqual(filter);
  });
});

describe('shiplane runs against a sandbox', () => {
  let server: Server;
  let url: string;
  const deployed = JSON.parse(readFileSync('test/fixtures/sfn-history-deployed.json', 'utf8')) as unknown;

  beforeEach(async () => {
    server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      response.setHeader('content-type', 'application/json');
      if (path === '/api/executions') {
        response.end(
          JSON.stringify({
            executions: [
              {
                name: 'backend-v2.1.6-4c1f5e2b8a9d',
                arn: execArn('backend-v2.1.6-4c1f5e2b8a9d'),
                status: 'SUCCEEDED',
                startDate: '2026-11-26T13:40:02.120Z',
                stopDate: '2026-11-26T13:52:17.660Z',
              },
            ],
          }),
        );
      } else if (path === '/api/executions/backend-v2.1.6-4c1f5e2b8a9d') {
        response.end(
          JSON.stringify({
            name: 'backend-v2.1.6-4c1f5e2b8a9d',
            arn: execArn('backend-v2.1.6-4c1f5e2b8a9d'),
            status: 'SUCCEEDED',
            startDate: '2026-11-26T13:40:02.120Z',
            input: { release: { app: 'backend', tag: 'v2.1.6' } },
            output: { outcome: 'deployed' },
            events: (deployed as { events: unknown[] }).events,
          }),
        );
      } else {
        response.writeHead(404).end(JSON.stringify({ message: 'not found' }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads the runs from the sandbox JSON API', async () => {
    const io = capture();

    const code = await listRuns({ sandbox: url }, io);

    expect(code).toBe(0);
    expect(io.lines[1]).toMatch(/^backend-v2\.1\.6-4c1f5e2b8a9d\s+backend\s+v2\.1\.6\s+SUCCEEDED\s+deployed/);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('finds the sandbox started in this folder when --sandbox has no URL', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'shiplane-runs-'));
    try {
      await mkdir(join(cwd, '.shiplane/sandbox'), { recursive: true });
      await writeFile(join(cwd, '.shiplane/sandbox/sandbox.json'), JSON.stringify({ url }));
      const io = capture();

      const code = await listRuns({ sandbox: true, json: true }, io, { cwd });

      expect(code).toBe(0);
      expect(JSON.parse(io.lines[0] ?? '{}')).toMatchObject({
        runs: [{ app: 'backend', outcome: 'deployed' }],
      });
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('says how to start a sandbox when none is running', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'shiplane-runs-'));
    const io = capture();

    const code = await listRuns({ sandbox: true }, io, { cwd });

    expect(code).toBe(1);
    expect(io.errors[0]).toMatch(/no running sandbox found.*npm start/);
    await rm(cwd, { recursive: true, force: true });
  });

  it('says the sandbox is unreachable when nothing listens', async () => {
    await new Promise((resolve) => server.close(resolve));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const io = capture();

    const code = await listRuns({ sandbox: url }, io);

    expect(code).toBe(1);
    expect(io.errors[0]).toMatch(/cannot reach the sandbox/);
  });
});

describe('the runs command', () => {
  it('parses its options and sets the exit code', async () => {
    const io = capture();
    const program = new Command('shiplane').exitOverride();
    registerRuns(program, io, { sfn });

    await program.parseAsync(['runs', '--state-machine', MACHINE, '--status', 'failed', '--json'], {
      from: 'user',
    });

    expect(process.exitCode).toBe(0);
    expect(JSON.parse(io.lines[0] ?? '{}')).toMatchObject({ runs: [{ outcome: 'failed' }] });
    process.exitCode = undefined;
  });
});
