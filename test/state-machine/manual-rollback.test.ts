/**
 * The manual rollback paths (`shiplane rollback`) of the synthesized promotion state machine (ITDO
 * ERP config), run in the local engine with scripted handlers that parse every task input with its
 * contract: the run's input carries `rollback`, and only that stage moves.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeTemplate } from '../../infra/synth.js';
import type { CfnTemplate } from '../../local/engine/definition.js';
import { createLocalEngine, type LocalEngine } from '../../local/engine/engine.js';
import { loadConfig } from '../../shared/config/load.js';
import { ERRORS, type RunInput, runInputSchema } from '../../shared/contracts/tasks.js';
import { buildTimeline, summarizeRun } from '../../shared/domain/execution-timeline.js';
import {
  approval,
  type HealthAnswer,
  type Recorded,
  type Script,
  scriptedHandlers,
  sha,
} from './scripted-handlers.js';

const pushed = runInputSchema.parse(
  JSON.parse(readFileSync(new URL('./fixtures/run-input.json', import.meta.url), 'utf8')),
) as RunInput;
/** The release the stage ran healthy before v2.1.6, as the approvals table's history keeps it. */
const EARLIER = { ...pushed.release, tag: 'v2.1.5', digest: `sha256:${'5'.repeat(64)}` };
const rollbackOf = (stage: string): RunInput => ({
  release: EARLIER,
  rollback: {
    stage,
    from: { tag: 'v2.1.6', digest: pushed.release.digest },
    reason: 'checkout errors since v2.1.6',
    by: 'arn:aws:iam::123456789012:user/aiko',
  },
});

let template: CfnTemplate;
beforeAll(async () => {
  template = synthesizeTemplate(await loadConfig('shiplane.config.yaml')) as CfnTemplate;
}, 120_000);

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function run(script: Script = {}): { engine: LocalEngine; recorded: Recorded } {
  let engine: LocalEngine | undefined;
  const { handlers, recorded } = scriptedHandlers(script, () => engine as LocalEngine);
  engine = createLocalEngine({ template, handlers, timing: { waitSeconds: 0, retryIntervalMs: 0 } });
  engines.push(engine);
  return { engine, recorded };
}

/** The committer: staging back at a3, production back at b4, each over v2.1.6. */
const committer: NonNullable<Script['commit']> = (request) => ({
  succeed: {
    commit: sha(request.change.stage === 'staging' ? 'a3' : 'b4'),
    status: 'committed',
    previousTag: 'v2.1.6',
    previousDigest: pushed.release.digest,
  },
});

const entered = (engine: LocalEngine, name: string) =>
  engine
    .history(name)
    .flatMap((event) => (event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : []));
const notified = (recorded: Recorded) =>
  recorded.notifications.map((n) => (n.stage ? `${n.event}:${n.stage}` : n.event));
const output = (description: { output?: string | undefined }) => JSON.parse(description.output ?? 'null');

const degraded = (revision: string): HealthAnswer => ({
  status: 'degraded',
  message: 'Deployment "backend" exceeded its progress deadline',
  revision,
  syncStatus: 'Synced',
  healthStatus: 'Degraded',
});

describe('a manual rollback of staging', () => {
  it('commits the earlier tag to staging only, marked with the run input, waits for health and ends Deployed', async () => {
    // Prepare
    const { engine, recorded } = run({ commit: committer });
    const input = rollbackOf('staging');

    // Act
    const result = await engine.start(input, 'backend-staging-rollback-v2.1.5-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result).outcome).toBe('deployed');
    expect(entered(engine, 'backend-staging-rollback-v2.1.5-1')).toEqual([
      'Prepare',
      'Notify release started',
      'Release or manual rollback?',
      'Staging · Commit manual rollback',
      'Staging · Notify manual rollback committed',
      'Staging · Start manual rollback wait',
      'Staging · Wait for manual rollback',
      'Staging · Manual rollback healthy?',
      'Staging · Notify manual rollback healthy',
      'Notify deployed',
      'Deployed',
    ]);
    expect(recorded.commits.map(({ request }) => request)).toEqual([
      {
        taskToken: expect.any(String),
        execution: 'backend-staging-rollback-v2.1.5-1',
        repository: 'itdo-erp/itdo-erp-infrastructure',
        branch: 'main',
        change: {
          kind: 'image',
          edit: 'manual-rollback',
          stage: 'staging',
          file: 'environments/staging/kustomization.yaml',
          release: EARLIER,
          pinDigest: true,
          createIfMissing: false,
          manualRollback: input.rollback,
        },
      },
    ]);
    // Argo CD is asked whether staging runs the earlier release at the rollback commit; production never.
    expect(recorded.healthChecks.map((check) => [check.stage, check.commit, check.release.tag])).toEqual([
      ['staging', sha('a3'), 'v2.1.5'],
    ]);
    expect(recorded.approvals.received).toEqual([]);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'healthy:staging', 'deployed']);
    expect(recorded.notifications[0]?.detail).toMatchObject({ rollback: input.rollback });
    const summary = summarizeRun(buildTimeline(engine.history('backend-staging-rollback-v2.1.5-1')));
    expect(summary).toMatchObject({
      tag: 'v2.1.5',
      outcome: 'deployed',
      manualRollback: {
        stage: 'staging',
        fromTag: 'v2.1.6',
        reason: 'checkout errors since v2.1.6',
        by: 'arn:aws:iam::123456789012:user/aiko',
      },
    });
  });

  it('fails with staging left degraded and alerted when the rollback turns Degraded too, never rolling back again', async () => {
    const { engine, recorded } = run({ commit: committer, health: { staging: [degraded(sha('a3'))] } });

    const result = await engine.start(rollbackOf('staging'), 'degraded-rollback').done;

    expect(result).toMatchObject({
      status: 'FAILED',
      error: ERRORS.degraded,
      cause: `staging is Degraded at ${sha('a3')}: Deployment "backend" exceeded its progress deadline`,
    });
    expect(entered(engine, 'degraded-rollback').slice(-4)).toEqual([
      'Staging · Manual rollback healthy?',
      'Staging · Manual rollback degraded',
      'Staging · Notify manual rollback degraded',
      'Failed',
    ]);
    // One commit: the rollback itself; no automatic rollback of it.
    expect(recorded.commits).toHaveLength(1);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'degraded:staging']);
  });

  it('ends Superseded when a newer release reached staging since the rollback was asked', async () => {
    const { engine, recorded } = run({
      commit: () => ({
        fail: {
          error: ERRORS.superseded,
          cause: 'itdo-erp/backend v2.1.5 was not deployed to staging: v2.1.8 is already there. …',
        },
      }),
    });

    const result = await engine.start(rollbackOf('staging'), 'superseded-rollback').done;

    expect(result.status).toBe('SUCCEEDED');
    expect(output(result).outcome).toBe('superseded');
    expect(notified(recorded)).toEqual(['started', 'superseded:staging']);
  });
});

describe('a manual rollback of production', () => {
  it('asks for approval marked as a rollback, then commits production only; staging keeps its tag', async () => {
    // Prepare
    const { engine, recorded } = run({ commit: committer });
    const input = rollbackOf('production');

    // Act
    const execution = engine.start(input, 'backend-production-rollback-v2.1.5-1');
    const request = await recorded.approvals.next();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(output(result).outcome).toBe('deployed');
    expect(request).toMatchObject({
      stage: 'production',
      release: EARLIER,
      approvers: ['U0PLATFORM1', 'S0PLATFORMGRP'],
      rollback: input.rollback,
    });
    expect(entered(engine, execution.name).slice(2, 7)).toEqual([
      'Release or manual rollback?',
      'Production · Await manual rollback approval',
      'Production · Manual rollback approved?',
      'Production · Notify manual rollback approved',
      'Production · Commit manual rollback',
    ]);
    expect(
      recorded.commits.map(({ request: r }) => [
        r.change.stage,
        r.change.kind === 'image' && r.change.release.tag,
      ]),
    ).toEqual([['production', 'v2.1.5']]);
    expect(recorded.healthChecks.map((check) => check.stage)).toEqual(['production']);
    expect(notified(recorded)).toEqual([
      'started',
      'approved:production',
      'committed:production',
      'healthy:production',
      'deployed',
    ]);
    expect(output(result).stages.staging).toEqual({});
  });

  it('ends Rejected without committing anything when the approver rejects the rollback', async () => {
    const { engine, recorded } = run({ commit: committer });

    const execution = engine.start(rollbackOf('production'), 'rejected-rollback');
    const request = await recorded.approvals.next();
    await engine.sendTaskFailure(request.taskToken, ERRORS.rejected, 'Rejected by U0PLATFORM1: not now');
    const result = await execution.done;

    expect(result.status).toBe('SUCCEEDED');
    expect(output(result).outcome).toBe('rejected');
    expect(recorded.commits).toEqual([]);
    expect(notified(recorded)).toEqual(['started', 'rejected:production']);
  });
});

describe('a manual rollback of a stage the state machine does not have', () => {
  it('fails without committing anything, saying which stages there are', async () => {
    const { engine, recorded } = run({ commit: committer });

    const result = await engine.start(rollbackOf('qa'), 'unknown-stage-rollback').done;

    expect(result).toMatchObject({
      status: 'FAILED',
      error: ERRORS.rollbackInvalid,
      cause:
        'the run asks to roll back a stage this state machine does not have (it has staging, production); nothing was changed',
    });
    expect(recorded.commits).toEqual([]);
    expect(notified(recorded)).toEqual(['started', 'failed']);
  });
});
