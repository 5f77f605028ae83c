import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildTimeline,
  formatElapsed,
  type HistoryEventLike,
  summarizeRun,
} from '../../../shared/domain/execution-timeline.js';

const deployed = JSON.parse(readFileSync('test/fixtures/sfn-history-deployed.json', 'utf8')) as {
  events: HistoryEventLike[];
};

/** A history built event by event, ids and times increasing. */
function history(...events: Array<Omit<HistoryEventLike, 'id' | 'timestamp'>>): HistoryEventLike[] {
  return events.map((event, index) => ({
    ...event,
    id: index + 1,
    timestamp: new Date(Date.UTC(2026, 10, 26, 13, 40, index)),
  }));
}

const release = { app: 'backend', tag: 'v2.1.7-bad', digest: `sha256:${'a'.repeat(64)}` };

describe('buildTimeline', () => {
  it('reads a deployed run: every state succeeded, in order, with the run output', () => {
    // Act
    const timeline = buildTimeline(deployed.events);

    // Assess
    expect(timeline.status).toBe('SUCCEEDED');
    expect(timeline.steps[0]?.name).toBe('Prepare');
    expect(timeline.steps.at(-1)?.name).toBe('Deployed');
    expect(timeline.steps.every((step) => step.status === 'succeeded')).toBe(true);
    expect(timeline.steps.filter((step) => step.name === 'Staging · Wait for Argo CD')).toHaveLength(2);
    expect(timeline.output).toMatchObject({ outcome: 'deployed' });
    expect(timeline.stoppedAt?.toISOString()).toBe('2026-11-26T13:52:17.660Z');
  });

  it('keeps state input and output as parsed JSON', () => {
    const timeline = buildTimeline(deployed.events);
    const commit = timeline.steps.find((step) => step.name === 'Staging · Commit new tag');

    expect(commit?.type).toBe('Task');
    expect(commit?.output).toMatchObject({
      stages: {
        staging: { commit: { commit: '8f3a2c1d9e4b7a6f5c0d1e2f3a4b5c6d7e8f9a0b', status: 'committed' } },
      },
    });
    expect(commit?.exitedAt && commit.exitedAt > commit.enteredAt).toBe(true);
  });

  it('marks a state whose task failed and was caught as caught, with the error', () => {
    const timeline = buildTimeline(
      history(
        { type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify({ release }) } },
        {
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'Production · Await approval', input: '{}' },
        },
        { type: 'TaskScheduled' },
        {
          type: 'TaskFailed',
          taskFailedEventDetails: { error: 'Shiplane.Rejected', cause: 'Rejected by kenji.sato: not today' },
        },
        {
          type: 'TaskStateExited',
          stateExitedEventDetails: { name: 'Production · Await approval', output: '{}' },
        },
        {
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'Production · Notify rejected', input: '{}' },
        },
      ),
    );

    expect(timeline.status).toBe('RUNNING');
    expect(timeline.steps[0]).toMatchObject({
      status: 'caught',
      error: { error: 'Shiplane.Rejected', cause: 'Rejected by kenji.sato: not today' },
    });
    expect(timeline.steps[1]).toMatchObject({ status: 'running', exitedAt: undefined });
  });

  it('counts a retried task and forgets the error a retry fixed', () => {
    const timeline = buildTimeline(
      history(
        { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Staging · Wait for Argo CD' } },
        { type: 'TaskScheduled' },
        { type: 'TaskFailed', taskFailedEventDetails: { error: 'Lambda.ServiceException', cause: 'boom' } },
        { type: 'TaskScheduled' },
        { type: 'TaskSucceeded' },
        {
          type: 'TaskStateExited',
          stateExitedEventDetails: { name: 'Staging · Wait for Argo CD', output: '{}' },
        },
      ),
    );

    expect(timeline.steps[0]).toMatchObject({ status: 'succeeded', retries: 1, error: undefined });
  });

  it('ends a failed run on its Fail state with the run error', () => {
    const timeline = buildTimeline(
      history(
        { type: 'FailStateEntered', stateEnteredEventDetails: { name: 'Failed', input: '{}' } },
        {
          type: 'ExecutionFailed',
          executionFailedEventDetails: {
            error: 'Shiplane.Degraded',
            cause: 'staging is Degraded at 8f3a2c1: Deployment backend 0/1 ready',
          },
        },
      ),
    );

    expect(timeline.status).toBe('FAILED');
    expect(timeline.error?.error).toBe('Shiplane.Degraded');
    expect(timeline.steps[0]).toMatchObject({ name: 'Failed', type: 'Fail', status: 'failed' });
  });

  it('keeps text that is not JSON as text', () => {
    const timeline = buildTimeline(
      history({ type: 'ExecutionStarted', executionStartedEventDetails: { input: 'not json' } }),
    );
    expect(timeline.input).toBe('not json');
  });
});

describe('summarizeRun', () => {
  it('reports the release, outcome, commits and the approval of a deployed run', () => {
    const summary = summarizeRun(buildTimeline(deployed.events));

    expect(summary).toMatchObject({
      app: 'backend',
      tag: 'v2.1.6',
      outcome: 'deployed',
      currentState: 'Deployed',
    });
    expect(summary.stages).toEqual([
      expect.objectContaining({
        name: 'staging',
        commit: '8f3a2c1d9e4b7a6f5c0d1e2f3a4b5c6d7e8f9a0b',
        commitStatus: 'committed',
        previousTag: 'v2.1.5',
        health: 'healthy',
        approval: undefined,
      }),
      expect.objectContaining({
        name: 'production',
        commit: 'c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3',
        approval: expect.objectContaining({ decision: 'approved', by: 'U0PLATFORM1', byName: 'aiko.tanaka' }),
      }),
    ]);
  });

  it('reads the stages of a failed run from the last state that carried them', () => {
    const stages = {
      staging: { commit: { commit: 'b'.repeat(40), status: 'committed', previousTag: null } },
    };
    const summary = summarizeRun(
      buildTimeline(
        history(
          { type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify({ release }) } },
          {
            type: 'TaskStateEntered',
            stateEnteredEventDetails: { name: 'Notify failed', input: JSON.stringify({ release, stages }) },
          },
          {
            type: 'ExecutionFailed',
            executionFailedEventDetails: { error: 'Shiplane.Degraded', cause: 'x' },
          },
        ),
      ),
    );

    expect(summary.outcome).toBe('failed');
    expect(summary.stages[0]).toMatchObject({ name: 'staging', commit: 'b'.repeat(40), previousTag: null });
  });

  it('reads a superseded run as superseded, not failed', () => {
    const input = JSON.stringify({ release, stages: { staging: {} } });
    const summary = summarizeRun(
      buildTimeline(
        history(
          { type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify({ release }) } },
          { type: 'PassStateEntered', stateEnteredEventDetails: { name: 'Superseded', input } },
          { type: 'PassStateExited', stateExitedEventDetails: { name: 'Superseded', output: input } },
          {
            type: 'ExecutionSucceeded',
            executionSucceededEventDetails: {
              output: JSON.stringify({ release, stages: { staging: {} }, outcome: 'superseded' }),
            },
          },
        ),
      ),
    );

    expect(summary.outcome).toBe('superseded');
    expect(summary.currentState).toBe('Superseded');
  });

  it('reads a rejection from the caught approval error', () => {
    const input = JSON.stringify({ release, stages: { staging: {}, production: {} } });
    const summary = summarizeRun(
      buildTimeline(
        history(
          {
            type: 'TaskStateEntered',
            stateEnteredEventDetails: { name: 'Production · Await approval', input },
          },
          {
            type: 'TaskFailed',
            taskFailedEventDetails: {
              error: 'Shiplane.Rejected',
              cause: JSON.stringify({ by: 'U0PLATFORM1', reason: 'wait for the migration' }),
            },
          },
          {
            type: 'TaskStateExited',
            stateExitedEventDetails: { name: 'Production · Await approval', output: input },
          },
          { type: 'PassStateEntered', stateEnteredEventDetails: { name: 'Rejected', input } },
          { type: 'PassStateExited', stateExitedEventDetails: { name: 'Rejected', output: input } },
          {
            type: 'ExecutionSucceeded',
            executionSucceededEventDetails: {
              output: JSON.stringify({
                release,
                stages: { staging: {}, production: {} },
                outcome: 'rejected',
              }),
            },
          },
        ),
      ),
    );

    expect(summary.outcome).toBe('rejected');
    expect(summary.stages.find((stage) => stage.name === 'production')?.approval).toMatchObject({
      decision: 'rejected',
      by: 'U0PLATFORM1',
      reason: 'wait for the migration',
    });
  });
});

describe('formatElapsed', () => {
  it.each([
    [0, '0.0s'],
    [1234, '1.2s'],
    [42_000, '42s'],
    [184_000, '3m04s'],
    [7_500_000, '2h05m'],
  ])('renders %i ms as %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });
});
