/**
 * Several runs at once in one sandbox, as a platform team would see them: two apps pushed at the same
 * moment, and a newer release of an app pushed while the previous one waits for approval.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietHandlers } from '../../../local/quiet-handlers.js';
import { commitLog, currentTags } from '../../../local/sandbox/gitops-repo.js';
import type { Sandbox } from '../../../local/sandbox/sandbox.js';
import { SANDBOX_USERS } from '../../../local/sandbox/sandbox-config.js';
import { APPROVE_ACTION } from '../../../shared/adapters/slack/approval-message.js';

let workdir: string;
let sandbox: Sandbox;

beforeAll(async () => {
  quietHandlers();
  const { startSandbox } = await import('../../../local/sandbox/sandbox.js');
  workdir = await mkdtemp(join(tmpdir(), 'shiplane-concurrent-'));
  // No controller clock: Argo CD moves on only when the health check reads it, so runs are quick.
  sandbox = await startSandbox({ workdir, port: 0, pollSeconds: 0, argoTickMs: 60_000, scenario: false });
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  await rm(workdir, { recursive: true, force: true });
});

/** Waits until the run asks for production approval; returns the message ts and approval id. */
async function approvalMessage(execution: string) {
  for (let i = 0; i < 300; i++) {
    const approvalId = await sandbox.runtime.store.approvalIdFor(execution, 'production');
    const message = sandbox.slack
      .messages()
      .find((m) => approvalId && JSON.stringify(m.blocks ?? []).includes(`"value":"${approvalId}"`));
    if (message && approvalId) return { ts: message.ts, approvalId };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no approval message for ${execution}`);
}

async function approve(execution: string): Promise<void> {
  const { ts, approvalId } = await approvalMessage(execution);
  const response = await fetch(`${sandbox.url}/api/slack/click`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ts,
      actionId: APPROVE_ACTION,
      value: approvalId,
      user: SANDBOX_USERS.approver.id,
    }),
  });
  expect(((await response.json()) as { status: number }).status).toBe(200);
}

describe('runs at the same time', () => {
  it('answers two pushes at the same moment each with its own run; both deploy, neither update is lost', async () => {
    // Act
    const [backend, frontend] = await Promise.all([
      sandbox.push('backend', 'v2.1.6'),
      sandbox.push('frontend', 'v1.9.0'),
    ]);

    // Assess
    expect(backend).toMatchObject({
      result: 'started',
      execution: expect.stringMatching(/^backend-v2\.1\.6-/),
    });
    expect(frontend).toMatchObject({
      result: 'started',
      execution: expect.stringMatching(/^frontend-v1\.9\.0-/),
    });
    const runs = [backend.execution ?? '', frontend.execution ?? ''];
    await Promise.all(runs.map(approve));
    const described = await Promise.all(runs.map((run) => sandbox.waitForRun(run)));
    for (const description of described) {
      expect(description.status).toBe('SUCCEEDED');
      expect(JSON.parse(description.output ?? '{}')).toMatchObject({
        outcome: 'deployed',
        stages: { staging: { health: { status: 'healthy' } }, production: { health: { status: 'healthy' } } },
      });
    }
    const tags = await currentTags(sandbox.repoDir);
    expect(tags.staging).toMatchObject({ backend: 'v2.1.6', frontend: 'v1.9.0' });
    expect(tags.production).toMatchObject({ backend: 'v2.1.6', frontend: 'v1.9.0' });
    const staging = (await commitLog(sandbox.repoDir)).filter((commit) =>
      commit.subject.endsWith('to staging'),
    );
    expect(staging.length).toBeGreaterThanOrEqual(1);
    expect(staging.length).toBeLessThanOrEqual(2);
  });

  it('closes an older release awaiting approval as superseded as soon as a newer one asks: SUCCEEDED, no buttons left', async () => {
    // Prepare: v2.1.7 waits for production approval
    const older = (await sandbox.push('backend', 'v2.1.7')).execution ?? '';
    const { approvalId: olderApproval } = await approvalMessage(older);

    // Act: v2.1.8 reaches the same approval
    const newer = (await sandbox.push('backend', 'v2.1.8')).execution ?? '';
    await approvalMessage(newer);
    const description = await sandbox.waitForRun(older);

    // Assess
    // Nothing is wrong: a newer release superseded this one, so the run succeeds without the failure path.
    expect(description.status).toBe('SUCCEEDED');
    const output = JSON.parse(description.output ?? '{}') as {
      outcome?: string;
      error?: { Error?: string; Cause?: string };
    };
    expect(output.outcome).toBe('superseded');
    expect(output.error).toEqual({
      Error: 'Shiplane.Superseded',
      Cause: 'backend v2.1.7 was superseded at production by v2.1.8 awaiting approval',
    });
    expect((await sandbox.runtime.store.getApproval(olderApproval))?.status).toBe('superseded');
    const olderMessage = sandbox.slack
      .messages()
      .find((m) => m.text === 'Approval superseded: backend v2.1.7 → production');
    expect(JSON.stringify(olderMessage?.blocks)).toContain('Superseded by `v2.1.8`');
    expect(JSON.stringify(olderMessage?.blocks)).not.toContain(APPROVE_ACTION);

    // The newer release still goes through.
    await approve(newer);
    expect((await sandbox.waitForRun(newer)).status).toBe('SUCCEEDED');
    expect((await currentTags(sandbox.repoDir)).production?.backend).toBe('v2.1.8');
    const subjects = (await commitLog(sandbox.repoDir)).map((commit) => commit.subject);
    expect(subjects).not.toContain('Promote backend v2.1.7 to production');
  });
});
