/**
 * `shiplane rollback --sandbox` end to end: a sandbox that releases backend v2.1.6 and then v2.1.7
 * (approvals clicked through the signed Slack path), a rollback of staging that leaves production
 * alone, a production rollback through its approval, and the refusals that start nothing.
 */
import { describe, expect, it } from 'vitest';
import { rollbackStage } from '../../../cli/commands/rollback.js';
import { showRun } from '../../../cli/commands/show.js';
import { currentTags } from '../../../local/sandbox/gitops-repo.js';
import { capture, outcomeOf, threadOf, useSandbox } from './sandbox-fixture.js';

const fixture = useSandbox('rollback', {
  approve: 'auto',
  timeoutMs: 300_000,
  // Two releases, both deployed to staging and production: staging has v2.1.6 and v2.1.7 on record.
  ready: async ({ sandbox }) => {
    expect(await outcomeOf(sandbox, sandbox.scenarioExecution ?? '')).toBe('deployed');
    const second = await fixture.sandbox.push('backend', 'v2.1.7');
    expect(await outcomeOf(sandbox, second.execution ?? '')).toBe('deployed');
  },
});

describe('shiplane rollback --sandbox', () => {
  it('puts staging back on the previous healthy tag and leaves production alone', async () => {
    // Prepare
    const io = capture();

    // Act
    const code = await rollbackStage(
      'backend',
      { stage: 'staging', reason: 'checkout errors', sandbox: fixture.sandbox.url },
      io,
    );

    // Assess
    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    const execution = 'backend-staging-rollback-v2.1.6-1';
    expect(io.lines).toEqual([
      `started ${execution}: roll back backend in staging v2.1.7 → v2.1.6`,
      `follow it: shiplane show ${execution} --sandbox ${fixture.sandbox.url}`,
    ]);
    expect(await outcomeOf(fixture.sandbox, execution)).toBe('deployed');
    const tags = await currentTags(fixture.sandbox.repoDir);
    expect(tags.staging?.backend).toBe('v2.1.6');
    expect(tags.production?.backend).toBe('v2.1.7');
    const thread = threadOf(fixture.sandbox, execution);
    expect(thread.parent).toBe('Rolled back backend in staging: v2.1.7 → v2.1.6');
    expect(thread.replies[0]).toContain(':rewind: Manual rollback of *staging* from `v2.1.7` to `v2.1.6`');
    expect(thread.replies.at(-1)).toBe(
      ':rewind: *staging* is rolled back to `v2.1.6`, Synced and Healthy. Nothing else changed.',
    );
    // The rollback is the stage's newest healthy tag now; the commit says who and why.
    expect(
      (await fixture.sandbox.runtime.store.stageTags('backend', 'staging'))?.healthy.map((e) => e.tag),
    ).toEqual(['v2.1.7', 'v2.1.6']);
    const show = capture();
    await showRun(execution, { sandbox: fixture.sandbox.url }, show);
    expect(show.lines).toContain(
      'rollback  manual rollback of staging: v2.1.7 → v2.1.6, asked by the sandbox (shiplane rollback --sandbox): checkout errors',
    );
  }, 240_000);

  it('rolls production back to --to a tag it ran, after its approval in Slack marked as a rollback', async () => {
    const io = capture();

    const code = await rollbackStage(
      'backend',
      { stage: 'production', to: 'v2.1.6', sandbox: fixture.sandbox.url },
      io,
    );

    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    const execution = 'backend-production-rollback-v2.1.6-1';
    expect(io.lines[1]).toBe('production asks for approval in Slack before the rollback is committed');
    expect(await outcomeOf(fixture.sandbox, execution)).toBe('deployed');
    expect((await currentTags(fixture.sandbox.repoDir)).production?.backend).toBe('v2.1.6');
    const approval = fixture.sandbox.slack
      .messages()
      .find((m) => m.text.startsWith('Approved: roll back backend in production'));
    expect(approval?.text).toBe('Approved: roll back backend in production v2.1.7 → v2.1.6');
  }, 240_000);

  it('refuses --to a tag the stage never ran, an unknown app and an unknown stage, and starts nothing', async () => {
    const before = (await fixture.sandbox.runtime.engine.listExecutions()).length;
    const io = capture();

    const never = await rollbackStage(
      'backend',
      { stage: 'staging', to: 'v9.9.9', sandbox: fixture.sandbox.url },
      io,
    );
    const app = await rollbackStage('billing', { stage: 'staging', sandbox: fixture.sandbox.url }, io);
    const stage = await rollbackStage('backend', { stage: 'qa', sandbox: fixture.sandbox.url }, io);

    expect([never, app, stage]).toEqual([1, 2, 2]);
    expect(io.errors).toEqual([
      "shiplane rollback: staging never ran backend v9.9.9 Synced and Healthy, so Shiplane will not roll back to it (Shiplane's record of backend healthy in staging, newest first: v2.1.6, v2.1.7); nothing was started",
      'shiplane rollback: unknown app billing; the config has backend, frontend; nothing was started',
      'shiplane rollback: unknown stage qa; the config has staging, production; nothing was started',
    ]);
    expect((await fixture.sandbox.runtime.engine.listExecutions()).length).toBe(before);
  });

  it('says there is nothing to roll back to for a stage with no record', async () => {
    const io = capture();

    const code = await rollbackStage('frontend', { stage: 'staging', sandbox: fixture.sandbox.url }, io);

    expect(code).toBe(1);
    expect(io.errors).toEqual([
      'shiplane rollback: Shiplane has no healthy tag of frontend recorded in staging yet; it records one each time staging turns Synced and Healthy; nothing was started',
    ]);
  });
});
