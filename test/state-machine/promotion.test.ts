/**
 * Every path of the promotion state machine, run in the local engine. The definition is the one CDK
 * synthesizes for the ITDO ERP config (shiplane.config.yaml), not a copy; the four handlers are scripted.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeTemplate } from '../../infra/synth.js';
import type { CfnTemplate } from '../../local/engine/definition.js';
import { loadDefinition } from '../../local/engine/definition.js';
import { createLocalEngine, type LocalEngine, type LocalTiming } from '../../local/engine/engine.js';
import { LocalDefinitionError } from '../../local/engine/errors.js';
import { loadConfig } from '../../shared/config/load.js';
import { ERRORS, type RunInput, runInputSchema } from '../../shared/contracts/tasks.js';
import {
  approval,
  type HealthAnswer,
  named,
  type Recorded,
  type Script,
  scriptedHandlers,
  sha,
} from './scripted-handlers.js';

const input = runInputSchema.parse(
  JSON.parse(readFileSync(new URL('./fixtures/run-input.json', import.meta.url), 'utf8')),
) as RunInput;

let template: CfnTemplate;
beforeAll(async () => {
  template = synthesizeTemplate(await loadConfig('shiplane.config.yaml')) as CfnTemplate;
});

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

/** An engine on the synthesized template with scripted handlers; Waits and retry intervals take no time. */
function run(script: Script = {}, timing: LocalTiming = {}): { engine: LocalEngine; recorded: Recorded } {
  let engine: LocalEngine | undefined;
  const { handlers, recorded } = scriptedHandlers(script, () => engine as LocalEngine);
  engine = createLocalEngine({
    template,
    handlers,
    timing: { waitSeconds: 0, retryIntervalMs: 0, ...timing },
  });
  engines.push(engine);
  return { engine, recorded };
}

const output = (description: { output?: string | undefined }) => JSON.parse(description.output ?? 'null');

/** The states the execution entered, in order. */
const entered = (engine: LocalEngine, name: string) =>
  engine
    .history(name)
    .flatMap((event) => (event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : []));

const notified = (recorded: Recorded) =>
  recorded.notifications.map((n) => (n.stage ? `${n.event}:${n.stage}` : n.event));

const progressing = (message: string): HealthAnswer => ({
  status: 'progressing',
  message,
  revision: sha('a1'),
  syncStatus: 'Synced',
  healthStatus: 'Progressing',
});

const healthy = (revision: string): HealthAnswer => ({
  status: 'healthy',
  message: 'Synced and Healthy',
  revision,
  syncStatus: 'Synced',
  healthStatus: 'Healthy',
});

/** The states of one stage's commit and Argo CD wait, healthy after `polls` polls. */
function stageStates(title: string, polls: number): string[] {
  const loop = [`${title} · Wait for Argo CD`, `${title} · Healthy?`];
  const states = [
    `${title} · Commit new tag`,
    `${title} · Notify committed`,
    `${title} · Start Argo CD wait`,
    ...loop,
  ];
  for (let i = 1; i < polls; i += 1) states.push(`${title} · Poll again`, `${title} · Count poll`, ...loop);
  return [...states, `${title} · Notify healthy`];
}

describe('the synthesized promotion state machine', () => {
  it('deploys: commits staging, waits for Argo CD, asks for approval, commits production, waits, and succeeds', async () => {
    // Prepare
    const { engine, recorded } = run({
      health: {
        staging: [
          progressing('Deployment backend 1/3 ready'),
          progressing('Deployment backend 2/3 ready'),
          healthy(sha('a1')),
        ],
      },
    });

    // Act
    const execution = engine.start(input, 'backend-v2.1.6-4c1f5e2b8a9d');
    const request = await recorded.approvals.next();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(entered(engine, execution.name)).toEqual([
      'Prepare',
      'Notify release started',
      'Release or manual rollback?',
      ...stageStates('Staging', 3),
      'Production · Await approval',
      'Production · Approved?',
      'Production · Notify approved',
      ...stageStates('Production', 1),
      'Notify deployed',
      'Deployed',
    ]);
    const out = output(result);
    expect(out.outcome).toBe('deployed');
    expect(out.release).toEqual(input.release);
    expect(out.stages.staging).toMatchObject({
      commit: { commit: sha('a1'), status: 'committed', previousTag: 'v2.1.5' },
      poll: { attempt: 3, maxAttempts: 90 },
      health: { status: 'healthy', attempt: 3 },
    });
    expect(out.stages.production).toMatchObject({
      commit: { commit: sha('b2') },
      approval: approval('U0PLATFORM1'),
      health: { status: 'healthy', attempt: 1 },
    });

    // Both commits, in order, to the configured files on one message group.
    expect(
      recorded.commits.map(({ request: r }) => [r.change.stage, r.change.kind === 'image' && r.change.file]),
    ).toEqual([
      ['staging', 'environments/staging/kustomization.yaml'],
      ['production', 'environments/production/kustomization.yaml'],
    ]);
    expect(recorded.commits[0]?.request).toMatchObject({
      execution: 'backend-v2.1.6-4c1f5e2b8a9d',
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
      change: { release: input.release, pinDigest: true, createIfMissing: false },
    });

    // Argo CD is asked about the commit just made, with the poll counter.
    expect(
      recorded.healthChecks.map((c) => [c.stage, c.argocdApp, c.commit, c.attempt, c.maxAttempts]),
    ).toEqual([
      ['staging', 'itdo-erp-staging', sha('a1'), 1, 90],
      ['staging', 'itdo-erp-staging', sha('a1'), 2, 90],
      ['staging', 'itdo-erp-staging', sha('a1'), 3, 90],
      ['production', 'itdo-erp-production', sha('b2'), 1, 90],
    ]);

    // The approval request carries the approvers, the timeout and what staging did.
    expect(request).toMatchObject({
      execution: 'backend-v2.1.6-4c1f5e2b8a9d',
      stage: 'production',
      approvers: ['U0PLATFORM1', 'S0PLATFORMGRP'],
      timeoutSeconds: 86_400,
      stages: { staging: { commit: { commit: sha('a1') }, health: { status: 'healthy' } } },
    });

    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'healthy:staging',
      'approved:production',
      'committed:production',
      'healthy:production',
      'deployed',
    ]);
    expect(recorded.notifications.at(-1)?.detail).toMatchObject({ staging: {}, production: {} });
  });

  it('ends SUCCEEDED with outcome rejected when the approval is rejected, and never commits production', async () => {
    // Prepare
    const { engine, recorded } = run();

    // Act
    const execution = engine.start(input, 'rejected-run');
    const request = await recorded.approvals.next();
    await engine.sendTaskFailure(
      request.taskToken,
      ERRORS.rejected,
      'Rejected by U0PLATFORM1: staging shows a 5xx spike',
    );
    const result = await execution.done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const out = output(result);
    expect(out.outcome).toBe('rejected');
    expect(out.error).toEqual({
      Error: 'Shiplane.Rejected',
      Cause: 'Rejected by U0PLATFORM1: staging shows a 5xx spike',
    });
    expect(recorded.commits.map((c) => c.request.change.stage)).toEqual(['staging']);
    expect(entered(engine, execution.name).slice(-3)).toEqual([
      'Production · Await approval',
      'Production · Notify rejected',
      'Rejected',
    ]);
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'healthy:staging',
      'rejected:production',
    ]);
    expect(recorded.notifications.at(-1)?.detail).toEqual(out.error);
  });

  it('runs a retry (input with retryOf) like any run, and tells notify it is a retry when it starts', async () => {
    // Prepare
    const { engine, recorded } = run({}, { taskTimeoutsMs: { 'Production · Await approval': 50 } });
    const retry = runInputSchema.parse({ ...input, retryOf: 'backend-v2.1.6-4c1f5e2b8a9d' });

    // Act
    const result = await engine.start(retry, 'backend-v2.1.6-4c1f5e2b8a9d-r2').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result)).toMatchObject({ outcome: 'expired', retryOf: 'backend-v2.1.6-4c1f5e2b8a9d' });
    expect(recorded.notifications[0]).toMatchObject({
      event: 'started',
      execution: 'backend-v2.1.6-4c1f5e2b8a9d-r2',
      detail: { release: input.release, retryOf: 'backend-v2.1.6-4c1f5e2b8a9d' },
    });
  });

  it('ends SUCCEEDED with outcome expired when nobody decides before the approval timeout', async () => {
    // Prepare: the 24 h approval expires after 50 ms.
    const { engine, recorded } = run({}, { taskTimeoutsMs: { 'Production · Await approval': 50 } });

    // Act
    const result = await engine.start(input, 'expired-run').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result)).toMatchObject({ outcome: 'expired', error: { Error: 'States.Timeout' } });
    expect(recorded.commits.map((c) => c.request.change.stage)).toEqual(['staging']);
    expect(entered(engine, 'expired-run').slice(-3)).toEqual([
      'Production · Await approval',
      'Production · Notify expired',
      'Approval expired',
    ]);
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'healthy:staging',
      'expired:production',
    ]);
    // A click after the expiry cannot resume the run.
    const request = await recorded.approvals.next();
    await expect(engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });

  it.each([
    ['an empty answer', {}, 'Production · Not approved', 'answered without decision: approved'],
    ['a commit result', { commit: sha('c3'), status: 'committed' }, 'Production · Not approved', 'decision'],
    [
      'a decision that is not approved',
      { decision: 'rejected', by: 'U0PLATFORM1' },
      'Production · Not approved',
      'decision',
    ],
    [
      'approved without an approver',
      { decision: 'approved' },
      'Production · No approver',
      'without an approver (by)',
    ],
    [
      'approved by nobody',
      { decision: 'approved', by: '' },
      'Production · No approver',
      'without an approver (by)',
    ],
    [
      'approved by a non-string',
      { decision: 'approved', by: 42 },
      'Production · No approver',
      'without an approver (by)',
    ],
    ['a bare string', 'approved', 'Production · Not approved', 'decision'],
  ])(
    'fails with an alert and never commits production when the approval task answers %s',
    async (_, answer, state, cause) => {
      // Prepare
      const { engine, recorded } = run({ health: { staging: [healthy(sha('a1'))] } });

      // Act
      const execution = engine.start(input, 'approval-invalid');
      const request = await recorded.approvals.next();
      await engine.sendTaskSuccess(request.taskToken, answer);
      const result = await execution.done;

      // Assess
      expect(result).toMatchObject({ status: 'FAILED', error: ERRORS.approvalInvalid });
      expect(result.cause).toContain(cause);
      expect(result.cause).toContain('production was not changed');
      expect(recorded.commits.map((c) => c.request.change.stage)).toEqual(['staging']);
      expect(entered(engine, execution.name).slice(-5)).toEqual([
        'Production · Await approval',
        'Production · Approved?',
        state,
        'Notify failed',
        'Failed',
      ]);
      // The failure notification is the alert (notify publishes `failed` to the alert topic).
      expect(notified(recorded).at(-1)).toBe('failed');
      expect(recorded.notifications.at(-1)?.detail).toEqual({
        Error: ERRORS.approvalInvalid,
        Cause: result.cause,
      });
    },
  );

  it('fails with Shiplane.HealthTimeout and the last Argo CD message when staging never becomes healthy', async () => {
    // Prepare
    const { engine, recorded } = run({
      health: {
        staging: [progressing('Deployment backend 0/3 ready'), progressing('Deployment backend 1/3 ready')],
      },
    });

    // Act
    const result = await engine.start(input, 'never-healthy').done;

    // Assess
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'Shiplane.HealthTimeout',
      cause: 'staging still Progressing after 15m: Deployment backend 1/3 ready',
    });
    // healthTimeout 15m / pollInterval 10s.
    expect(recorded.healthChecks).toHaveLength(90);
    expect(recorded.healthChecks.at(-1)?.attempt).toBe(90);
    // Argo CD last said Progressing, not Degraded: nothing to roll back.
    expect(entered(engine, 'never-healthy').slice(-5)).toEqual([
      'Staging · Healthy?',
      'Staging · Timed out',
      'Staging · Degraded at timeout?',
      'Staging · Notify timed out',
      'Failed',
    ]);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'timed-out:staging']);
    expect(recorded.approvals.received).toEqual([]);
  });

  it('fails with Shiplane.Degraded and leaves the stage degraded when its first release turns Degraded', async () => {
    // Prepare: the stage pinned no release of the app before (previousTag null).
    const { engine, recorded } = run({
      commit: () => ({
        succeed: { commit: sha('a1'), status: 'committed', previousTag: null, previousDigest: null },
      }),
      health: {
        staging: [
          progressing('Deployment backend 1/3 ready'),
          {
            status: 'degraded',
            message: 'Deployment backend: Back-off pulling image itdo-erp/backend:v2.1.6',
            revision: sha('a1'),
            syncStatus: 'Synced',
            healthStatus: 'Degraded',
          },
        ],
      },
    });

    // Act
    const result = await engine.start(input, 'degraded-run').done;

    // Assess
    const degraded = `staging is Degraded at ${sha('a1')}: Deployment backend: Back-off pulling image itdo-erp/backend:v2.1.6`;
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'Shiplane.Degraded',
      cause: `${degraded}; staging is left degraded on v2.1.6: it pinned no earlier release of backend to roll back to`,
    });
    expect(recorded.healthChecks).toHaveLength(2);
    expect(recorded.commits).toHaveLength(1);
    expect(entered(engine, 'degraded-run').slice(-5)).toEqual([
      'Staging · Degraded',
      'Staging · Roll back?',
      'Staging · Nothing to roll back to',
      'Staging · Notify left degraded',
      'Failed',
    ]);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'failed:staging']);
    expect(recorded.notifications.at(-1)?.detail).toEqual({
      Error: 'Shiplane.Degraded',
      Cause: result.cause,
    });
  });

  it('fails with Shiplane.Replaced and alerts when staging no longer runs the release, without asking for approval', async () => {
    // Prepare: a revert descends from our commit, but the stage's file pins the older tag again.
    const message = `staging no longer runs backend v2.1.6: ${sha('c3').slice(0, 7)} changed it to v2.1.5`;
    const { engine, recorded } = run({
      health: {
        staging: [
          progressing('Deployment backend 1/3 ready'),
          {
            status: 'replaced',
            message,
            revision: sha('c3'),
            syncStatus: 'OutOfSync',
            healthStatus: 'Healthy',
          },
        ],
      },
    });

    // Act
    const result = await engine.start(input, 'replaced-run').done;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'Shiplane.Replaced', cause: message });
    expect(entered(engine, 'replaced-run').slice(-4)).toEqual([
      'Staging · Healthy?',
      'Staging · Release replaced',
      'Notify failed',
      'Failed',
    ]);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'failed']);
    expect(recorded.notifications.at(-1)?.detail).toEqual({ Error: 'Shiplane.Replaced', Cause: message });
    expect(recorded.approvals.received).toEqual([]);
    expect(recorded.commits.map((c) => c.request.change.stage)).toEqual(['staging']);
  });

  it('ends SUCCEEDED with outcome superseded when a newer release replaced it in staging, without asking for approval', async () => {
    // Prepare
    const message = `itdo-erp/backend v2.1.6 was not deployed to staging: v2.1.7 is already there. environments/staging/kustomization.yaml pins v2.1.7 at ${sha('c3').slice(0, 7)}.`;
    const { engine, recorded } = run({
      health: {
        staging: [
          {
            status: 'superseded',
            message,
            revision: sha('c3'),
            syncStatus: 'Synced',
            healthStatus: 'Healthy',
          },
        ],
      },
    });

    // Act
    const result = await engine.start(input, 'superseded-in-staging').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result)).toMatchObject({
      outcome: 'superseded',
      error: { Error: 'Shiplane.Superseded', Cause: message },
    });
    expect(entered(engine, 'superseded-in-staging').slice(-4)).toEqual([
      'Staging · Healthy?',
      'Staging · Newer release there',
      'Staging · Notify superseded',
      'Superseded',
    ]);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'superseded:staging']);
    expect(recorded.approvals.received).toEqual([]);
  });

  it('retries the Argo CD check after a transient Lambda error and carries on', async () => {
    // Prepare
    const { engine, recorded } = run({
      health: { staging: [named('Lambda.TooManyRequestsException', 'Rate exceeded'), healthy(sha('a1'))] },
    });

    // Act
    const execution = engine.start(input, 'health-retried');
    const request = await recorded.approvals.next();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    // Assess
    expect(output(result).outcome).toBe('deployed');
    expect(recorded.healthChecks.filter((c) => c.stage === 'staging').map((c) => c.attempt)).toEqual([1, 1]);
  });

  it("fails with the Argo CD check's own error when it throws a terminal one", async () => {
    // Prepare
    const { engine, recorded } = run({
      health: {
        staging: [
          named(
            'ArgoCdAuthError',
            'Argo CD answered 401 for itdo-erp-staging: check secret:shiplane/argocd-token',
          ),
        ],
      },
    });

    // Act
    const result = await engine.start(input, 'health-broken').done;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'ArgoCdAuthError' });
    // Step Functions reports a Lambda function error's Cause as the runtime's JSON error document.
    expect(JSON.parse(result.cause ?? '')).toMatchObject({
      errorType: 'ArgoCdAuthError',
      errorMessage: 'Argo CD answered 401 for itdo-erp-staging: check secret:shiplane/argocd-token',
    });
    expect(recorded.healthChecks).toHaveLength(1);
    expect(entered(engine, 'health-broken').slice(-3)).toEqual([
      'Staging · Wait for Argo CD',
      'Notify failed',
      'Failed',
    ]);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'failed']);
  });

  it('fails when the approval request cannot be posted, without committing production', async () => {
    // Prepare
    const { engine, recorded } = run({
      approvalThrows: named('SlackApiError', 'An API error occurred: channel_not_found'),
    });

    // Act
    const result = await engine.start(input, 'approval-broken').done;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'SlackApiError' });
    expect(recorded.commits.map((c) => c.request.change.stage)).toEqual(['staging']);
    expect(entered(engine, 'approval-broken').slice(-3)).toEqual([
      'Production · Await approval',
      'Notify failed',
      'Failed',
    ]);
  });

  it('ends SUCCEEDED with outcome superseded when production already runs a newer release, without the failure path', async () => {
    // Prepare: an older run approved after a newer one deployed; the committer refuses to move back.
    const cause =
      'itdo-erp/backend v2.1.6 was not deployed to production: v2.1.7 is already there. environments/production/kustomization.yaml already pins itdo-erp/backend v2.1.7, newer than v2.1.6';
    const { engine, recorded } = run({
      commit: (request) =>
        request.change.stage === 'production'
          ? { fail: { error: ERRORS.superseded, cause } }
          : {
              succeed: {
                commit: sha('a1'),
                status: 'committed',
                previousTag: 'v2.1.5',
                previousDigest: null,
              },
            },
    });

    // Act
    const execution = engine.start(input, 'superseded-run');
    const request = await recorded.approvals.next();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const out = output(result);
    expect(out.outcome).toBe('superseded');
    expect(out.error).toEqual({ Error: 'Shiplane.Superseded', Cause: cause });
    expect(recorded.commits.map((c) => c.request.change.stage)).toEqual(['staging', 'production']);
    expect(entered(engine, execution.name).slice(-3)).toEqual([
      'Production · Commit new tag',
      'Production · Notify superseded',
      'Superseded',
    ]);
    expect(entered(engine, execution.name)).not.toContain('Notify failed');
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'healthy:staging',
      'approved:production',
      'superseded:production',
    ]);
    expect(recorded.notifications.at(-1)?.detail).toEqual(out.error);
  });

  it('ends SUCCEEDED with outcome superseded when a newer release asks for the same approval, and never commits production', async () => {
    // Prepare: request-approval of v2.1.7 fails this older run's approval task.
    const cause = 'backend v2.1.6 was superseded at production by v2.1.7 awaiting approval';
    const { engine, recorded } = run();

    // Act
    const execution = engine.start(input, 'superseded-at-approval-run');
    const request = await recorded.approvals.next();
    await engine.sendTaskFailure(request.taskToken, ERRORS.superseded, cause);
    const result = await execution.done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const out = output(result);
    expect(out.outcome).toBe('superseded');
    expect(out.error).toEqual({ Error: 'Shiplane.Superseded', Cause: cause });
    expect(recorded.commits.map((c) => c.request.change.stage)).toEqual(['staging']);
    expect(entered(engine, execution.name).slice(-3)).toEqual([
      'Production · Await approval',
      'Production · Notify superseded',
      'Superseded',
    ]);
    expect(entered(engine, execution.name)).not.toContain('Notify failed');
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'healthy:staging',
      'superseded:production',
    ]);
    expect(recorded.notifications.at(-1)?.detail).toEqual(out.error);
  });

  it('fails when the commit fails after retries: a lost message times out and is retried, then the committer gives up', async () => {
    // Prepare: the first message keeps failing until it is dead-lettered, so its task times out and is
    // retried with a new message; the committer answers that one with a terminal failure.
    const cause = 'environments/staging/kustomization.yaml has no images entry for itdo-erp/backend';
    const { engine, recorded } = run(
      {
        commit: (_, receive) =>
          recorded.commits.filter((c) => c.receive === 1).length === 1
            ? { retryLater: true }
            : { fail: { error: ERRORS.commitFailed, cause: `${cause} (receive ${receive})` } },
      },
      { taskTimeoutsMs: { 'Staging · Commit new tag': 300 } },
    );

    // Act
    const result = await engine.start(input, 'commit-fails').done;

    // Assess
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'Shiplane.CommitFailed',
      cause: `${cause} (receive 1)`,
    });
    const tokens = [...new Set(recorded.commits.map((c) => c.request.taskToken))];
    expect(tokens).toHaveLength(2);
    // The commit queue's redrive policy allows 3 receives.
    expect(recorded.commits.map((c) => c.receive)).toEqual([1, 2, 3, 1]);
    expect(engine.deadLetters()).toHaveLength(1);
    const commitEvents = engine
      .history('commit-fails')
      .filter((e) => /^Task(TimedOut|Failed)$/.test(e.type))
      .map((e) => e.type);
    expect(commitEvents).toEqual(['TaskTimedOut', 'TaskFailed']);
    expect(entered(engine, 'commit-fails').slice(-3)).toEqual([
      'Staging · Commit new tag',
      'Notify failed',
      'Failed',
    ]);
    expect(notified(recorded)).toEqual(['started', 'failed']);
    expect(recorded.notifications.at(-1)?.detail).toEqual({
      Error: 'Shiplane.CommitFailed',
      Cause: `${cause} (receive 1)`,
    });
  });

  it('fails with States.Timeout when no commit is ever answered, after every retry', async () => {
    // Prepare
    const { engine, recorded } = run(
      { commit: () => ({ retryLater: true }) },
      { taskTimeoutsMs: { 'Staging · Commit new tag': 100 }, maxReceiveCount: 1 },
    );

    // Act
    const result = await engine.start(input, 'commit-lost').done;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    // One attempt and three retries, each with its own message.
    expect(new Set(recorded.commits.map((c) => c.request.taskToken)).size).toBe(4);
    expect(notified(recorded)).toEqual(['started', 'failed']);
  });

  it('still deploys when every notification fails', async () => {
    // Prepare
    const { engine, recorded } = run({
      notifyThrows: () =>
        Object.assign(new Error('Slack answered channel_not_found'), { name: 'SlackApiError' }),
    });

    // Act
    const execution = engine.start(input, 'notify-broken');
    const request = await recorded.approvals.next();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result).outcome).toBe('deployed');
    expect(notified(recorded)).toHaveLength(7);
    // A failed notification leaves the run's data untouched (ResultPath null on the Catch).
    expect(output(result).error).toBeUndefined();
  });
});

describe('definitions the local engine refuses', () => {
  /** The synthesized template with its definition edited by `change`. */
  function edited(change: (states: Record<string, Record<string, unknown>>) => void): CfnTemplate {
    const { definition, stateMachine } = loadDefinition(template);
    const copy = structuredClone(definition) as unknown as {
      States: Record<string, Record<string, unknown>>;
    };
    change(copy.States);
    const resources = structuredClone(template.Resources ?? {}) as Record<
      string,
      { Properties?: Record<string, unknown> }
    >;
    const machine = resources[stateMachine.logicalId];
    if (machine?.Properties) machine.Properties.DefinitionString = JSON.stringify(copy);
    return { Resources: resources } as CfnTemplate;
  }

  const refused = (changed: CfnTemplate) => {
    const { handlers } = scriptedHandlers({}, () => {
      throw new Error('not started');
    });
    return () => createLocalEngine({ template: changed, handlers });
  };

  it('refuses a JSONata state', () => {
    const changed = edited((states) => {
      states['Staging · Count poll'] = {
        Type: 'Pass',
        QueryLanguage: 'JSONata',
        Output: '{% $merge([$states.input, {"attempt": $states.input.attempt + 1}]) %}',
        Next: 'Staging · Wait for Argo CD',
      };
    });
    expect(refused(changed)).toThrow(LocalDefinitionError);
    expect(refused(changed)).toThrow(/state "Staging · Count poll" uses QueryLanguage JSONata/);
  });

  it('refuses Assign', () => {
    const changed = edited((states) => {
      states.Prepare = { ...states.Prepare, Assign: { attempt: 1 } };
    });
    expect(refused(changed)).toThrow(/state "Prepare" uses Assign/);
  });

  it('refuses a Task whose resource has no local handler', () => {
    const changed = edited((states) => {
      states['Notify release started'] = {
        ...states['Notify release started'],
        Resource: 'arn:aws:states:::sns:publish',
        Parameters: { TopicArn: 'arn:aws:sns:local:000000000000:alerts', 'Message.$': '$.release' },
      };
    });
    expect(refused(changed)).toThrow(
      /state "Notify release started" calls arn:aws:states:::sns:publish .*nothing may call AWS from a local run/,
    );
  });
});
