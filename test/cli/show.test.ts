import { readFileSync } from 'node:fs';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { renderRun, showRun } from '../../cli/commands/show.js';
import type { Io } from '../../cli/io.js';

const MACHINE = 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:ShiplanePromotion';
const NAME = 'backend-v2.1.6-4c1f5e2b8a9d';
const ARN = `arn:aws:states:ap-northeast-1:123456789012:execution:ShiplanePromotion:${NAME}`;

/** The fixture as the SDK returns it: timestamps are Dates. */
const events = (
  JSON.parse(readFileSync('test/fixtures/sfn-history-deployed.json', 'utf8')) as {
    events: Array<HistoryEvent & { timestamp: string }>;
  }
).events.map((event) => ({ ...event, timestamp: new Date(event.timestamp) })) as HistoryEvent[];

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'ap-northeast-1' });

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(DescribeExecutionCommand, { executionArn: ARN }).resolves({
    executionArn: ARN,
    name: NAME,
    status: 'SUCCEEDED',
    startDate: new Date('2026-11-26T13:40:02.120Z'),
    stopDate: new Date('2026-11-26T13:52:17.660Z'),
    input: JSON.stringify({ release: { app: 'backend', tag: 'v2.1.6' } }),
    output: JSON.stringify({ outcome: 'deployed' }),
  });
  // Two pages, as GetExecutionHistory returns long histories.
  sfnMock
    .on(GetExecutionHistoryCommand, { executionArn: ARN })
    .resolvesOnce({ events: events.slice(0, 40), nextToken: 'page-2' })
    .resolvesOnce({ events: events.slice(40) });
});

describe('shiplane show against a deployed stack', () => {
  it('prints the run, its timeline with the poll loop folded, and the stage results', async () => {
    // Prepare
    const io = capture();

    // Act
    const code = await showRun(NAME, { stateMachine: MACHINE }, io, { sfn });

    // Assess
    expect(code).toBe(0);
    const text = io.lines.join('\n');
    expect(io.lines[0]).toBe(`${NAME}  SUCCEEDED · deployed`);
    expect(text).toContain('release   backend v2.1.6  sha256:4c1f5e2b');
    expect(text).toContain('started   2026-11-26T13:40:02.120Z  took 12m16s');
    expect(text).toMatch(/✓ Staging · Commit new tag\n/);
    expect(text).toMatch(/✓ Staging · Wait for Argo CD {2}×2/);
    expect(text).toMatch(/✓ Production · Await approval\n/);
    expect(text).toMatch(/✓ Deployed$/m);
    expect(text).toContain(
      'staging     commit 8f3a2c1 (committed, was v2.1.5); healthy: Synced and Healthy at 8f3a2c1',
    );
    expect(text).toContain(
      'production  approved by aiko.tanaka (U0PLATFORM1) via slack at 2026-11-26T13:52:14Z; commit c4d5e6f (committed, was v2.1.5)',
    );
  });

  it('reads the whole history, page by page, with execution data', async () => {
    await showRun(NAME, { stateMachine: MACHINE, json: true }, capture(), { sfn });

    const calls = sfnMock.commandCalls(GetExecutionHistoryCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input).toMatchObject({ executionArn: ARN, includeExecutionData: true });
    expect(calls[1]?.args[0].input).toMatchObject({ nextToken: 'page-2' });
  });

  it('prints JSON with the summary and every state', async () => {
    const io = capture();

    await showRun(ARN, { stateMachine: MACHINE, json: true }, io, { sfn });

    const shown = JSON.parse(io.lines[0] ?? '{}') as {
      outcome: string;
      timeline: unknown[];
      stages: unknown[];
    };
    expect(shown).toMatchObject({
      execution: NAME,
      status: 'SUCCEEDED',
      outcome: 'deployed',
      app: 'backend',
      nextStep: null,
    });
    expect(shown.timeline).toHaveLength(22);
    expect(shown.stages).toHaveLength(2);
  });

  it('says which execution does not exist, exit 1', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'nope', $metadata: {} }));
    const io = capture();

    const code = await showRun('backend-v9.9.9-000000000000', { stateMachine: MACHINE }, io, { sfn });

    expect(code).toBe(1);
    expect(io.errors[0]).toBe(`shiplane show: no execution backend-v9.9.9-000000000000 on ${MACHINE}`);
  });
});

describe('renderRun', () => {
  it('shows a failed run with its error and the state that failed', () => {
    const start = new Date('2026-11-26T14:00:00Z');
    const at = (s: number) => new Date(start.getTime() + s * 1000);
    const lines = renderRun(
      {
        name: 'backend-v2.1.7-bad-9c1d2e3f4a5b',
        arn: 'arn',
        status: 'FAILED',
        startDate: start,
        stopDate: at(30),
        input: undefined,
        output: undefined,
        error: 'Shiplane.Degraded',
        cause: 'staging is Degraded',
        events: [
          {
            id: 1,
            type: 'ExecutionStarted',
            timestamp: at(0),
            executionStartedEventDetails: { input: '{}' },
          },
          {
            id: 2,
            type: 'PassStateEntered',
            timestamp: at(28),
            stateEnteredEventDetails: { name: 'Staging · Degraded' },
          },
          {
            id: 3,
            type: 'PassStateExited',
            timestamp: at(28),
            stateExitedEventDetails: { name: 'Staging · Degraded' },
          },
          {
            id: 4,
            type: 'FailStateEntered',
            timestamp: at(29),
            stateEnteredEventDetails: { name: 'Failed' },
          },
          {
            id: 5,
            type: 'ExecutionFailed',
            timestamp: at(30),
            executionFailedEventDetails: {
              error: 'Shiplane.Degraded',
              cause: 'staging is Degraded at 1a2b3c4: Deployment backend 0/1 ready',
            },
          },
        ],
      },
      at(60),
    );

    expect(lines[0]).toBe('backend-v2.1.7-bad-9c1d2e3f4a5b  FAILED · failed');
    expect(lines).toContain(
      'error     Shiplane.Degraded: staging is Degraded at 1a2b3c4: Deployment backend 0/1 ready',
    );
    expect(lines.some((line) => /\+29s\s+1\.0s {2}✗ Failed$/.test(line))).toBe(true);
    expect(lines).toContain(
      'next      staging is Degraded at this release and was left that way. Roll it back with `shiplane rollback <app> --stage staging`, then fix and push a new tag.',
    );
  });

  it('says what to do next after a rejection: retry it', () => {
    const lines = renderRun(
      ended('backend-v2.1.7-9c1d2e3f4a5b', 'SUCCEEDED', [
        caught('Production · Await approval', 'Shiplane.Rejected', 'not today'),
        passed('Production · Notify rejected'),
        passed('Rejected'),
        succeeded({ outcome: 'rejected', error: { Error: 'Shiplane.Rejected', Cause: 'not today' } }),
      ]),
      at(60),
    );

    expect(lines[0]).toBe('backend-v2.1.7-9c1d2e3f4a5b  SUCCEEDED · rejected');
    expect(lines).toContain(
      "next      The promotion was rejected at production's approval. If it should go ahead after all, ask again with `shiplane retry backend-v2.1.7-9c1d2e3f4a5b`; otherwise fix and push a new tag.",
    );
  });

  it('says what to do next after an expired approval: retry it', () => {
    const lines = renderRun(
      ended('backend-v2.1.7-9c1d2e3f4a5b', 'SUCCEEDED', [
        caught('Production · Await approval', 'States.Timeout', ''),
        passed('Approval expired'),
        succeeded({ outcome: 'expired', error: { Error: 'States.Timeout', Cause: '' } }),
      ]),
      at(60),
    );

    expect(lines).toContain(
      'next      Nobody approved the promotion to production in time. Ask again with `shiplane retry backend-v2.1.7-9c1d2e3f4a5b`.',
    );
  });

  it('asks to fix the token in Secrets Manager when Argo CD refused it (a Lambda error, JSON cause)', () => {
    const cause = JSON.stringify({
      errorType: 'ArgoCdAuthenticationError',
      errorMessage: 'Argo CD rejected the token (401)',
      trace: ['at x'],
    });
    const lines = renderRun(
      ended('backend-v2.1.7-9c1d2e3f4a5b', 'FAILED', [
        caught('Staging · Wait for Argo CD', 'ArgoCdAuthenticationError', cause),
        passed('Notify failed'),
        failed('ArgoCdAuthenticationError', cause),
      ]),
      at(60),
    );

    expect(lines).toContain(
      "next      A service refused Shiplane's credentials (ArgoCdAuthenticationError). Fix the Argo CD token (argocd.token) in Secrets Manager, then `shiplane retry backend-v2.1.7-9c1d2e3f4a5b`.",
    );
  });

  it('offers a retry after a commit nobody answered (commit contention, States.Timeout)', () => {
    const lines = renderRun(
      ended('backend-v2.1.7-9c1d2e3f4a5b', 'FAILED', [
        caught('Production · Commit new tag', 'States.Timeout', 'no answer'),
        passed('Notify failed'),
        failed('States.Timeout', 'no answer'),
      ]),
      at(60),
    );

    expect(lines).toContain(
      'next      A passing problem stopped the run (States.Timeout). Start it again with `shiplane retry backend-v2.1.7-9c1d2e3f4a5b`.',
    );
  });

  it('shows a manual rollback run as such: from → to, who asked and why, and its one stage', () => {
    const run = ended('backend-staging-rollback-v2.1.5-1', 'SUCCEEDED', [
      passed('Staging · Commit manual rollback'),
      passed('Deployed'),
      succeeded({
        outcome: 'deployed',
        stages: {
          staging: {
            commit: { commit: 'a3'.repeat(20), status: 'committed', previousTag: 'v2.1.6' },
            health: { status: 'healthy', message: 'Synced and Healthy' },
          },
          production: {},
        },
      }),
    ]);
    const rollbackInput = JSON.stringify({
      release: { app: 'backend', tag: 'v2.1.5' },
      rollback: {
        stage: 'staging',
        from: { tag: 'v2.1.6' },
        reason: 'checkout errors',
        by: 'arn:aws:iam::1:user/aiko',
      },
    });
    const events = run.events.map((event) =>
      event.type === 'ExecutionStarted'
        ? { ...event, executionStartedEventDetails: { input: rollbackInput } }
        : event,
    );

    const lines = renderRun({ ...run, events }, at(60));

    expect(lines[0]).toBe('backend-staging-rollback-v2.1.5-1  SUCCEEDED · deployed');
    expect(lines).toContain(
      'rollback  manual rollback of staging: v2.1.6 → v2.1.5, asked by arn:aws:iam::1:user/aiko: checkout errors',
    );
    expect(lines.slice(lines.indexOf('Stages'))).toEqual([
      'Stages',
      '  staging  commit a3a3a3a (committed, was v2.1.6); healthy: Synced and Healthy',
    ]);
  });

  it('gives no advice for a deployed run', () => {
    const lines = renderRun(
      ended('backend-v2.1.7-9c1d2e3f4a5b', 'SUCCEEDED', [
        passed('Deployed'),
        succeeded({ outcome: 'deployed' }),
      ]),
      at(60),
    );

    expect(lines.some((line) => line.startsWith('next'))).toBe(false);
  });
});

const start = new Date('2026-11-26T14:00:00Z');
const at = (s: number) => new Date(start.getTime() + s * 1000);
type Event = NonNullable<Parameters<typeof renderRun>[0]['events']>[number];

/** A state that ran and exited (its own events, numbered later). */
const passed = (name: string): Event[] => [
  { type: 'PassStateEntered', stateEnteredEventDetails: { name } },
  { type: 'PassStateExited', stateExitedEventDetails: { name } },
];
/** A task whose failure a Catch took. */
const caught = (name: string, error: string, cause: string): Event[] => [
  { type: 'TaskStateEntered', stateEnteredEventDetails: { name } },
  { type: 'TaskFailed', taskFailedEventDetails: { error, cause } },
  { type: 'TaskStateExited', stateExitedEventDetails: { name } },
];
const succeeded = (output: unknown): Event[] => [
  { type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: JSON.stringify(output) } },
];
const failed = (error: string, cause: string): Event[] => [
  { type: 'ExecutionFailed', executionFailedEventDetails: { error, cause } },
];

/** A finished run of backend whose states are `groups`, one second apart. */
function ended(name: string, status: string, groups: Event[][]): Parameters<typeof renderRun>[0] {
  const events = [
    {
      type: 'ExecutionStarted',
      executionStartedEventDetails: { input: JSON.stringify({ release: { app: 'backend', tag: 'v2.1.7' } }) },
    },
    ...groups.flat(),
  ].map((event, index) => ({ ...event, id: index + 1, timestamp: at(index) }));
  return {
    name,
    arn: 'arn',
    status,
    startDate: start,
    stopDate: at(events.length),
    input: undefined,
    output: undefined,
    error: undefined,
    cause: undefined,
    events,
  };
}

describe('renderRun of a run waiting out a change freeze', () => {
  it('says the run is frozen, with the end in the window zone and as an instant', () => {
    const start = new Date('2026-12-05T03:00:00Z');
    const at = (s: number) => new Date(start.getTime() + s * 1000);
    const freeze = {
      status: 'frozen',
      until: '2026-12-06T21:00:00.000Z',
      reason: 'release freeze',
      timeZone: 'Asia/Tokyo',
      notice: 'production frozen until Mon 06:00 JST: release freeze',
      checkedAt: at(60).toISOString(),
    };
    const input = JSON.stringify({
      release: { app: 'backend', tag: 'v2.1.6' },
      stages: { staging: { health: { status: 'healthy' } }, production: { freeze } },
    });
    const lines = renderRun(
      {
        name: NAME,
        arn: ARN,
        status: 'RUNNING',
        startDate: start,
        stopDate: undefined,
        input: undefined,
        output: undefined,
        error: undefined,
        cause: undefined,
        events: [
          {
            id: 1,
            type: 'ExecutionStarted',
            timestamp: at(0),
            executionStartedEventDetails: { input: '{}' },
          },
          {
            id: 2,
            type: 'WaitStateEntered',
            timestamp: at(61),
            stateEnteredEventDetails: { name: 'Production · Wait for freeze to end', input },
          },
        ],
      },
      at(120),
    );

    expect(lines).toContain(
      'frozen    production frozen until Mon 06:00 JST: release freeze (waits until 2026-12-06T21:00:00.000Z)',
    );
  });

  it('says nothing of a freeze once the wait is over', () => {
    const start = new Date('2026-12-05T03:00:00Z');
    const input = JSON.stringify({
      stages: { production: { freeze: { status: 'frozen', until: '2026-12-06T21:00:00Z' } } },
    });
    const lines = renderRun(
      {
        name: NAME,
        arn: ARN,
        status: 'RUNNING',
        startDate: start,
        stopDate: undefined,
        input: undefined,
        output: undefined,
        error: undefined,
        cause: undefined,
        events: [
          {
            id: 1,
            type: 'ExecutionStarted',
            timestamp: start,
            executionStartedEventDetails: { input: '{}' },
          },
          {
            id: 2,
            type: 'WaitStateEntered',
            timestamp: start,
            stateEnteredEventDetails: { name: 'Production · Wait for freeze to end', input },
          },
          {
            id: 3,
            type: 'WaitStateExited',
            timestamp: start,
            stateExitedEventDetails: { name: 'Production · Wait for freeze to end', output: input },
          },
        ],
      },
      start,
    );

    expect(lines.some((line) => line.startsWith('frozen'))).toBe(false);
  });
});
