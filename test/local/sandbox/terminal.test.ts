import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTimelinePrinter, describeExit } from '../../../local/sandbox/terminal.js';
import type { HistoryEventLike } from '../../../shared/domain/execution-timeline.js';

const NAME = 'backend-v2.1.6-4c1f5e2b8a9d';
const events = (
  JSON.parse(readFileSync('test/fixtures/sfn-history-deployed.json', 'utf8')) as {
    events: HistoryEventLike[];
  }
).events;

describe('the live timeline', () => {
  it('prints one line per commit, Argo CD check and approval, with elapsed time and SHAs', () => {
    // Prepare
    const lines: string[] = [];
    const print = createTimelinePrinter((line) => lines.push(line));

    // Act
    for (const event of events) print({ name: NAME, event });

    // Assess
    expect(lines.slice(1).map((line) => line.replace(/\s+/g, ' ').trim())).toEqual([
      `${NAME} backend v2.1.6`,
      '+1.7s ✓ Staging · Commit new tag commit 8f3a2c1 (committed, was v2.1.5)',
      '+2.2s … Staging · Wait for Argo CD progressing: Deployment backend 1/2 ready (check 1)',
      '+13s ✓ Staging · Wait for Argo CD healthy: Synced and Healthy at 8f3a2c1 (check 2)',
      '+13s ⏸ Production · Await approval waiting for a decision in Slack (or the console)',
      '+12m13s ✓ Production · Await approval approved by aiko.tanaka via slack',
      '+12m15s ✓ Production · Commit new tag commit c4d5e6f (committed, was v2.1.5)',
      '+12m15s ✓ Production · Wait for Argo CD healthy: Synced and Healthy at c4d5e6f (check 1)',
      '+12m16s ✓ Deployed',
    ]);
  });

  it('prints a failed run with its error, and caught task errors as they happen', () => {
    const lines: string[] = [];
    const print = createTimelinePrinter((line) => lines.push(line));
    const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 14, 0, s));

    print({
      name: 'x',
      event: {
        id: 1,
        type: 'ExecutionStarted',
        timestamp: at(0),
        executionStartedEventDetails: { input: '{}' },
      },
    });
    print({
      name: 'x',
      event: {
        id: 2,
        type: 'TaskFailed',
        timestamp: at(3),
        taskFailedEventDetails: { error: 'Shiplane.CommitFailed', cause: 'no image entry' },
      },
    });
    print({
      name: 'x',
      event: {
        id: 3,
        type: 'ExecutionFailed',
        timestamp: at(4),
        executionFailedEventDetails: { error: 'Shiplane.CommitFailed', cause: 'no image entry' },
      },
    });

    expect(lines.slice(2).map((line) => line.replace(/\s+/g, ' ').trim())).toEqual([
      '+3.0s ! Shiplane.CommitFailed: no image entry',
      '+4.0s ✗ Failed Shiplane.CommitFailed: no image entry',
    ]);
  });

  it('colours marks only when asked', () => {
    const lines: string[] = [];
    const print = createTimelinePrinter((line) => lines.push(line), { color: true });
    for (const event of events) print({ name: NAME, event });
    expect(lines.some((line) => line.includes('\x1b[32m✓\x1b[0m'))).toBe(true);
  });
});

describe('describeExit', () => {
  it('finds the stage of a state by its title', () => {
    const output = {
      stages: { 'eu-prod': { commit: { commit: 'f'.repeat(40), status: 'unchanged', previousTag: 'v1' } } },
    };
    expect(describeExit('Eu-prod · Commit new tag', output)).toBe('commit fffffff (unchanged, was v1)');
    expect(describeExit('Notify deployed', output)).toBeUndefined();
  });
});

describe('a degraded verdict', () => {
  it('is marked as a failure even though the check itself succeeded', () => {
    const lines: string[] = [];
    const print = createTimelinePrinter((line) => lines.push(line));
    const at = new Date(Date.UTC(2026, 10, 26, 14, 0, 0));
    const output = JSON.stringify({
      stages: {
        staging: { health: { status: 'degraded', message: 'Deployment backend Degraded', attempt: 3 } },
      },
    });

    print({
      name: 'x',
      event: { id: 1, type: 'ExecutionStarted', timestamp: at, executionStartedEventDetails: {} },
    });
    print({
      name: 'x',
      event: {
        id: 2,
        type: 'TaskStateExited',
        timestamp: at,
        stateExitedEventDetails: { name: 'Staging · Wait for Argo CD', output },
      },
    });

    expect(lines.at(-1)).toMatch(
      /✗ Staging · Wait for Argo CD +degraded: Deployment backend Degraded \(check 3\)/,
    );
  });
});

describe('a replaced verdict', () => {
  it('is marked as a failure: staging no longer runs the release', () => {
    const lines: string[] = [];
    const print = createTimelinePrinter((line) => lines.push(line));
    const at = new Date(Date.UTC(2026, 10, 26, 14, 0, 0));
    const message = 'staging no longer runs backend v2.1.6: 1a2b3c4 changed it to v2.1.5';
    const output = JSON.stringify({
      stages: { staging: { health: { status: 'replaced', message, attempt: 2 } } },
    });

    print({
      name: 'x',
      event: { id: 1, type: 'ExecutionStarted', timestamp: at, executionStartedEventDetails: {} },
    });
    print({
      name: 'x',
      event: {
        id: 2,
        type: 'TaskStateExited',
        timestamp: at,
        stateExitedEventDetails: { name: 'Staging · Wait for Argo CD', output },
      },
    });

    expect(lines.at(-1)).toMatch(
      /✗ Staging · Wait for Argo CD +replaced: staging no longer runs backend v2\.1\.6/,
    );
  });
});
