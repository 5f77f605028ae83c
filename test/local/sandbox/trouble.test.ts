/**
 * The sandbox when things go wrong around a run: nobody approves in time, Slack goes down, GitHub
 * answers 502 and Argo CD 503 for a while. Each describe has its own sandbox.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietHandlers } from '../../../local/quiet-handlers.js';
import { currentTags } from '../../../local/sandbox/gitops-repo.js';
import type { Sandbox, SandboxOptions } from '../../../local/sandbox/sandbox.js';
import { SANDBOX_USERS } from '../../../local/sandbox/sandbox-config.js';
import { APPROVE_ACTION } from '../../../shared/adapters/slack/approval-message.js';

/** Starts a sandbox for the describe it is called in, without the scenario push. */
function useSandbox(options: SandboxOptions = {}): () => Sandbox {
  let workdir: string;
  let sandbox: Sandbox;
  beforeAll(async () => {
    quietHandlers();
    const { startSandbox } = await import('../../../local/sandbox/sandbox.js');
    workdir = await mkdtemp(join(tmpdir(), 'shiplane-trouble-'));
    // No controller clock: Argo CD moves on only when the health check reads it, so runs are quick.
    sandbox = await startSandbox({
      workdir,
      port: 0,
      pollSeconds: 0,
      argoTickMs: 60_000,
      scenario: false,
      ...options,
    });
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
    await rm(workdir, { recursive: true, force: true });
  });
  return () => sandbox;
}

/** Waits until the run asks for production approval; returns the message ts and approval id. */
async function approvalMessage(sandbox: Sandbox, execution: string) {
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

async function clickApprove(sandbox: Sandbox, ts: string, approvalId: string) {
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
  return { status: response.status, body: (await response.json()) as { status?: number; message?: string } };
}

describe('an approval nobody answers', () => {
  const sandbox = useSandbox({ approvalTimeoutSeconds: 1 });

  it('expires: the run ends Approval expired, production unchanged, and the message loses its buttons', async () => {
    // Prepare
    const { execution = '' } = await sandbox().push('backend', 'v2.1.6');
    const { ts, approvalId } = await approvalMessage(sandbox(), execution);

    // Act
    const description = await sandbox().waitForRun(execution);

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(JSON.parse(description.output ?? '{}')).toMatchObject({ outcome: 'expired' });
    expect((await currentTags(sandbox().repoDir)).production?.backend).toBe('v2.1.5');
    const message = sandbox()
      .slack.messages()
      .find((m) => m.ts === ts);
    expect(JSON.stringify(message?.blocks)).toContain('Expired');
    expect(JSON.stringify(message?.blocks)).not.toContain(approvalId);
    const late = await clickApprove(sandbox(), ts, approvalId);
    expect(late.status).toBeGreaterThanOrEqual(400);
    expect((await currentTags(sandbox().repoDir)).production?.backend).toBe('v2.1.5');
  });
});

describe('outages during a run', () => {
  const sandbox = useSandbox();

  it('deploys when Slack goes down after asking for approval: the click still decides', async () => {
    // Prepare
    const { execution = '' } = await sandbox().push('backend', 'v2.1.6');
    const { ts, approvalId } = await approvalMessage(sandbox(), execution);
    sandbox().slack.setDown(true);

    // Act
    try {
      await clickApprove(sandbox(), ts, approvalId);
      const description = await sandbox().waitForRun(execution);

      // Assess
      expect(description.status).toBe('SUCCEEDED');
      expect(JSON.parse(description.output ?? '{}')).toMatchObject({ outcome: 'deployed' });
      expect((await currentTags(sandbox().repoDir)).production?.backend).toBe('v2.1.6');
    } finally {
      sandbox().slack.setDown(false);
    }
  });

  it('records the approval as pending when Slack is down as it is asked for (left to `shiplane approve`)', async () => {
    sandbox().slack.setDown(true);
    try {
      const { execution = '' } = await sandbox().push('frontend', 'v1.9.0');
      let approvalId: string | undefined;
      for (let i = 0; i < 300 && !approvalId; i++) {
        approvalId = await sandbox().runtime.store.approvalIdFor(execution, 'production');
        if (!approvalId) await new Promise((resolve) => setTimeout(resolve, 50));
      }

      expect(approvalId).toBeDefined();
      expect(await sandbox().runtime.store.getApproval(approvalId ?? '')).toMatchObject({
        status: 'pending',
      });
      expect(sandbox().runtime.engine.describeExecution(execution).status).toBe('RUNNING');
      expect((await currentTags(sandbox().repoDir)).staging?.frontend).toBe('v1.9.0');
    } finally {
      sandbox().slack.setDown(false);
    }
  });

  it('rides out GitHub 502s and Argo CD 503s: retries, then the run deploys', async () => {
    // Prepare: the staging commit's first read of the branch fails, then Argo CD's first checks
    sandbox().github.inject({ kind: 'bad-gateway', path: /\/branches\//, times: 1 });
    sandbox().argocd.fail(4);

    // Act
    const { execution = '' } = await sandbox().push('backend', 'v2.1.7');
    const { ts, approvalId } = await approvalMessage(sandbox(), execution);
    await clickApprove(sandbox(), ts, approvalId);
    const description = await sandbox().waitForRun(execution);

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(JSON.parse(description.output ?? '{}')).toMatchObject({ outcome: 'deployed' });
    expect((await currentTags(sandbox().repoDir)).production?.backend).toBe('v2.1.7');
    expect(sandbox().github.stats.byStatus['502']).toBe(1);
  }, 60_000);
});
