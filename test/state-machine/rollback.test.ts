/**
 * The automatic rollback paths of the synthesized promotion state machine (ITDO ERP config, where
 * every stage has `rollback: auto`), run in the local engine with scripted handlers that parse every
 * task input with its contract.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeTemplate } from '../../infra/synth.js';
import type { CfnTemplate } from '../../local/engine/definition.js';
import { createLocalEngine, type LocalEngine } from '../../local/engine/engine.js';
import { loadConfig, parseConfig } from '../../shared/config/load.js';
import { toConfigInput } from '../../shared/config/runtime.js';
import { type CommitRequest, ERRORS, type RunInput, runInputSchema } from '../../shared/contracts/tasks.js';
import { buildTimeline, summarizeRun } from '../../shared/domain/execution-timeline.js';
import {
  approval,
  type HealthAnswer,
  type Recorded,
  type Script,
  scriptedHandlers,
  sha,
} from './scripted-handlers.js';

const input = runInputSchema.parse(
  JSON.parse(readFileSync(new URL('./fixtures/run-input.json', import.meta.url), 'utf8')),
) as RunInput;
const { tag, digest } = input.release;
const EARLIER_DIGEST = `sha256:${'5'.repeat(64)}`;

let template: CfnTemplate;
let rollbackOff: CfnTemplate;
beforeAll(async () => {
  const config = await loadConfig('shiplane.config.yaml');
  template = synthesizeTemplate(config) as CfnTemplate;
  const off = toConfigInput(config);
  rollbackOff = synthesizeTemplate(
    parseConfig(
      { ...off, stages: off.stages.map((stage) => ({ ...stage, rollback: 'off' })) },
      'test config',
    ),
  ) as CfnTemplate;
}, 120_000);

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function run(script: Script, on = template): { engine: LocalEngine; recorded: Recorded } {
  let engine: LocalEngine | undefined;
  const { handlers, recorded } = scriptedHandlers(script, () => engine as LocalEngine);
  engine = createLocalEngine({ template: on, handlers, timing: { waitSeconds: 0, retryIntervalMs: 0 } });
  engines.push(engine);
  return { engine, recorded };
}

const entered = (engine: LocalEngine, name: string) =>
  engine
    .history(name)
    .flatMap((event) => (event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : []));

const notified = (recorded: Recorded) =>
  recorded.notifications.map((n) => (n.stage ? `${n.event}:${n.stage}` : n.event));

const degraded = (
  revision: string,
  message = 'Deployment "backend" exceeded its progress deadline',
): HealthAnswer => ({
  status: 'degraded',
  message,
  revision,
  syncStatus: 'Synced',
  healthStatus: 'Degraded',
});
const healthy = (revision: string): HealthAnswer => ({
  status: 'healthy',
  message: 'Synced and Healthy',
  revision,
  syncStatus: 'Synced',
  healthStatus: 'Healthy',
});

/** The committer: the run's promotions commit over v2.1.5 (pinned with a digest); rollbacks as `rollback` says. */
type Committer = NonNullable<Script['commit']>;

function committer(rollback?: Committer): Committer {
  return (request, receive) => {
    if (request.change.kind === 'image' && request.change.rollback && rollback)
      return rollback(request, receive);
    const stage = request.change.stage;
    const commit =
      request.change.kind === 'image' && request.change.rollback ? 'c3' : stage === 'staging' ? 'a1' : 'b2';
    return {
      succeed: {
        commit: sha(commit),
        status: 'committed',
        previousTag: request.change.kind === 'image' && request.change.rollback ? tag : 'v2.1.5',
        previousDigest: request.change.kind === 'image' && request.change.rollback ? digest : EARLIER_DIGEST,
      },
    };
  };
}

const rollbacks = (recorded: Recorded): CommitRequest[] =>
  recorded.commits.flatMap(({ request }) =>
    request.change.kind === 'image' && request.change.rollback ? [request] : [],
  );

const reason = `staging is Degraded at ${sha('a1')}: Deployment "backend" exceeded its progress deadline`;

describe('automatic rollback', () => {
  it('rolls staging back to the tag and digest it pinned before, waits for health there, and ends Rolled back', async () => {
    // Prepare
    const { engine, recorded } = run({
      commit: committer(),
      health: { staging: [degraded(sha('a1')), healthy(sha('c3'))] },
    });

    // Act
    const result = await engine.start(input, 'rolled-back-run').done;

    // Assess
    expect(result).toMatchObject({
      status: 'FAILED',
      error: ERRORS.rolledBack,
      cause: `staging was rolled back from v2.1.6 to v2.1.5 at ${sha('c3')}: ${reason}`,
    });
    expect(entered(engine, 'rolled-back-run').slice(-13)).toEqual([
      'Staging · Wait for Argo CD',
      'Staging · Healthy?',
      'Staging · Degraded',
      'Staging · Roll back?',
      'Staging · Plan rollback to tag and digest',
      'Staging · Notify rolling back',
      'Staging · Commit rollback',
      'Staging · Start rollback wait',
      'Staging · Wait for rollback',
      'Staging · Rolled back?',
      'Staging · Record rollback',
      'Staging · Notify rolled back',
      'Rolled back',
    ]);
    expect(rollbacks(recorded)).toEqual([
      {
        taskToken: expect.any(String),
        execution: 'rolled-back-run',
        repository: 'itdo-erp/itdo-erp-infrastructure',
        branch: 'main',
        change: {
          kind: 'image',
          edit: 'rollback',
          stage: 'staging',
          file: 'environments/staging/kustomization.yaml',
          release: { ...input.release, tag: 'v2.1.5', digest: EARLIER_DIGEST },
          pinDigest: true,
          createIfMissing: false,
          rollback: { of: 'rolled-back-run', fromTag: 'v2.1.6', fromDigest: digest, reason },
        },
      },
    ]);
    // The same commit queue message group as the promotion.
    expect(recorded.healthChecks.map((check) => [check.stage, check.commit, check.attempt])).toEqual([
      ['staging', sha('a1'), 1],
      ['staging', sha('c3'), 1],
    ]);
    expect(recorded.approvals.received).toEqual([]);
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'rolling-back:staging',
      'rolled-back:staging',
    ]);
    expect(recorded.notifications.at(-1)?.detail).toMatchObject({
      target: { tag: 'v2.1.5', digest: EARLIER_DIGEST },
      reason,
      commit: { commit: sha('c3') },
      health: { status: 'healthy', revision: sha('c3') },
    });
    const summary = summarizeRun(buildTimeline(engine.history('rolled-back-run')));
    expect(summary.outcome).toBe('rolled-back');
    expect(summary.stages.find((stage) => stage.name === 'staging')?.rollback).toEqual({
      tag: 'v2.1.5',
      commit: sha('c3'),
      commitStatus: 'committed',
      health: 'healthy',
      healthMessage: 'Synced and Healthy',
    });
  });

  it('restores the tag alone when the earlier entry pinned no digest', async () => {
    const { engine, recorded } = run({
      commit: (request, receive) =>
        request.change.kind === 'image' && request.change.rollback
          ? committer()(request, receive)
          : {
              succeed: {
                commit: sha('a1'),
                status: 'committed',
                previousTag: 'v2.1.5',
                previousDigest: null,
              },
            },
      health: { staging: [degraded(sha('a1')), healthy(sha('c3'))] },
    });

    const result = await engine.start(input, 'tag-only-run').done;

    expect(result.error).toBe(ERRORS.rolledBack);
    expect(rollbacks(recorded)[0]?.change).toMatchObject({
      release: { tag: 'v2.1.5', digest },
      pinDigest: false,
    });
  });

  it('rolls back production only when production turns Degraded after its promotion; staging keeps the release', async () => {
    // Prepare
    const { engine, recorded } = run({
      commit: committer(),
      health: { production: [degraded(sha('b2'), 'Deployment "backend" 0/3 ready'), healthy(sha('c3'))] },
    });

    // Act
    const execution = engine.start(input, 'production-rolled-back');
    const request = await recorded.approvals.next();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: ERRORS.rolledBack });
    expect(result.cause).toMatch(/^production was rolled back from v2\.1\.6 to v2\.1\.5 at c3c3/);
    expect(
      recorded.commits.map(({ request: r }) => [
        r.change.stage,
        r.change.kind === 'image' && !!r.change.rollback,
      ]),
    ).toEqual([
      ['staging', false],
      ['production', false],
      ['production', true],
    ]);
    expect(notified(recorded).slice(-3)).toEqual([
      'committed:production',
      'rolling-back:production',
      'rolled-back:production',
    ]);
  });

  it('rolls back when the health wait times out with the app Degraded', async () => {
    const { engine, recorded } = run({
      commit: committer(),
      health: {
        staging: [
          ...Array.from({ length: 89 }, () => ({ ...degraded(sha('a1')), status: 'progressing' as const })),
          { ...degraded(sha('a1')), status: 'progressing' },
          healthy(sha('c3')),
        ],
      },
    });

    const result = await engine.start(input, 'timed-out-degraded').done;

    expect(result.error).toBe(ERRORS.rolledBack);
    expect(result.cause).toContain('staging still Degraded after 15m');
    expect(entered(engine, 'timed-out-degraded')).toContain('Staging · Degraded at timeout?');
    expect(rollbacks(recorded)).toHaveLength(1);
  });

  it('fails, leaving the stage degraded and alerting, when the rollback commit fails', async () => {
    // Prepare
    const cause =
      'environments/staging/kustomization.yaml: images[name=itdo-erp/backend].newTag is not a plain value';
    const { engine, recorded } = run({
      commit: committer(() => ({ fail: { error: ERRORS.commitFailed, cause } })),
      health: { staging: [degraded(sha('a1'))] },
    });

    // Act
    const result = await engine.start(input, 'rollback-commit-fails').done;

    // Assess
    expect(result).toMatchObject({
      status: 'FAILED',
      error: ERRORS.degraded,
      cause: `${reason}; staging is left degraded on v2.1.6: the rollback to v2.1.5 failed: ${cause}`,
    });
    expect(entered(engine, 'rollback-commit-fails').slice(-4)).toEqual([
      'Staging · Commit rollback',
      'Staging · Rollback failed',
      'Staging · Notify left degraded',
      'Failed',
    ]);
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'rolling-back:staging',
      'failed:staging',
    ]);
    expect(recorded.notifications.at(-1)?.detail).toEqual({ Error: ERRORS.degraded, Cause: result.cause });
    expect(summarizeRun(buildTimeline(engine.history('rollback-commit-fails'))).outcome).toBe('failed');
  });

  it('fails, leaving the stage degraded, when the rollback turns Degraded too', async () => {
    const { engine } = run({
      commit: committer(),
      health: { staging: [degraded(sha('a1')), degraded(sha('c3'), 'Deployment "backend" 1/3 ready')] },
    });

    const result = await engine.start(input, 'rollback-degraded').done;

    expect(result).toMatchObject({
      status: 'FAILED',
      error: ERRORS.degraded,
      cause: `${reason}; staging is left degraded on v2.1.6: the rollback to v2.1.5 failed: it is Degraded too at ${sha('c3')}: Deployment "backend" 1/3 ready`,
    });
  });

  it('ends Superseded, without rolling back over it, when a newer release replaced the entry meanwhile', async () => {
    // Prepare: the committer refuses the rollback because staging now pins v2.1.7.
    const cause =
      'itdo-erp/backend v2.1.5 was not deployed to staging: v2.1.7 is already there. environments/staging/kustomization.yaml pins itdo-erp/backend v2.1.7, not v2.1.6 of run newer-release-run; a newer release replaced it';
    const { engine, recorded } = run({
      commit: committer(() => ({ fail: { error: ERRORS.superseded, cause } })),
      health: { staging: [degraded(sha('a1'))] },
    });

    // Act
    const result = await engine.start(input, 'newer-release-run').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}')).toMatchObject({
      outcome: 'superseded',
      error: { Error: ERRORS.superseded, Cause: cause },
    });
    expect(entered(engine, 'newer-release-run').slice(-3)).toEqual([
      'Staging · Commit rollback',
      'Staging · Notify rollback superseded',
      'Superseded',
    ]);
    expect(notified(recorded).at(-1)).toBe('superseded:staging');
  });

  it('with rollback: off, fails fast on Degraded as before', async () => {
    const { engine, recorded } = run(
      { commit: committer(), health: { staging: [degraded(sha('a1'))] } },
      rollbackOff,
    );

    const result = await engine.start(input, 'rollback-off').done;

    expect(result).toMatchObject({ status: 'FAILED', error: ERRORS.degraded, cause: reason });
    expect(entered(engine, 'rollback-off').slice(-3)).toEqual([
      'Staging · Degraded',
      'Staging · Notify degraded',
      'Failed',
    ]);
    expect(rollbacks(recorded)).toEqual([]);
    expect(notified(recorded)).toEqual(['started', 'committed:staging', 'degraded:staging']);
  });
});
