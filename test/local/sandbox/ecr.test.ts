/**
 * The sandbox's ECR: its pushes are recorded in the ECR stand-in, request-approval reads the image's
 * facts from it through the real adapter (ecr-image-facts.ts) and the real ECRClient, so the Slack
 * approval message shows push time, size and the scan's counts; and the real sweep handler lists it
 * (ecr-recent-images.ts) and starts a push the intake never heard of, once.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ecrPushEvent, sqsEventOf } from '../../../local/sandbox/ecr-push.js';
import { formatBytes } from '../../../shared/adapters/slack/approval-message.js';
import { useSandbox } from './sandbox-fixture.js';

const fixture = useSandbox('ecr', { timeoutMs: 240_000 });
const { terminal } = fixture;

/** The run's pending approval for production, once request-approval has posted it. */
async function approvalOf(execution: string) {
  for (let i = 0; i < 600; i++) {
    const id = await fixture.sandbox.runtime.store.approvalIdFor(execution, 'production');
    const approval = id ? await fixture.sandbox.runtime.store.getApproval(id) : undefined;
    const message = fixture.sandbox.slack
      .messages()
      .find((m) => id && JSON.stringify(m.blocks ?? []).includes(`"value":"${id}"`));
    if (approval && message) return { approval, text: JSON.stringify(message.blocks) };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${execution} never asked for production's approval`);
}

describe('the sandbox reads its ECR stand-in', () => {
  it('lists the stand-in with the other stand-ins', () => {
    expect(fixture.sandbox.ecr.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(terminal).toContain(
      `  ECR           ${fixture.sandbox.ecr.endpoint}  (itdo-erp/backend, itdo-erp/frontend)`,
    );
  });

  it("stages the digest ECR gave the push; the approval message shows the image's facts, no findings", async () => {
    const execution = fixture.sandbox.scenarioExecution ?? '';
    const image = fixture.sandbox.ecr.registry.image('itdo-erp/backend', 'v2.1.6');
    expect(image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const { approval, text } = await approvalOf(execution);

    const staging = execFileSync('git', ['show', 'main:environments/staging/kustomization.yaml'], {
      cwd: fixture.sandbox.repoDir,
      encoding: 'utf8',
    });
    expect(staging).toContain(`digest: ${image?.digest}\n`);
    expect(approval.facts.image).toEqual({
      pushedAt: image?.pushedAt.toISOString(),
      sizeBytes: image?.sizeBytes,
      scan: { status: 'COMPLETE', counts: {}, completedAt: image?.scannedAt?.toISOString() },
    });
    expect(text).toContain(`${formatBytes(image?.sizeBytes ?? 0)} · scan: no findings`);
  });

  it('a -vuln tag reaches the approval with its CRITICAL finding counted', async () => {
    // Pushed (and scanned on push) a minute ago: a scan takes the stand-in 3 s, and frontend has no
    // gate to wait for it, so a fresh push could reach its approval with the scan still in progress.
    fixture.sandbox.ecr.push({
      repository: 'itdo-erp/frontend',
      tag: 'v1.9.0-vuln',
      pushedAt: new Date(Date.now() - 60_000),
    });
    const answer = await fixture.sandbox.push('frontend', 'v1.9.0-vuln');
    expect(answer.result).toBe('started');

    const { approval, text } = await approvalOf(answer.execution ?? '');

    expect(approval.facts.image?.scan).toMatchObject({ status: 'COMPLETE', counts: { CRITICAL: 1 } });
    expect(text).toContain('scan: 1 critical');
  });

  it('the sweep starts a push the intake missed, once; a push the intake started is not started again', async () => {
    const fiveMinutesAgo = new Date(Date.now() - 5 * 60_000);
    // A push whose event never reached the intake, and one whose event did.
    const missed = fixture.sandbox.ecr.push({
      repository: 'itdo-erp/backend',
      tag: 'v2.1.8',
      pushedAt: fiveMinutesAgo,
    });
    const delivered = fixture.sandbox.ecr.push({
      repository: 'itdo-erp/frontend',
      tag: 'v1.9.1',
      pushedAt: fiveMinutesAgo,
    });
    const intake = await fixture.sandbox.runtime.deliver(
      sqsEventOf(
        ecrPushEvent({
          repository: 'itdo-erp/frontend',
          tag: 'v1.9.1',
          digest: delivered.digest,
          at: fiveMinutesAgo,
        }),
      ),
    );
    expect(intake.result).toBe('started');
    const before = fixture.sandbox.runtime.engine.listExecutions().length;

    const first = await fixture.sandbox.runtime.sweep();
    const afterFirst = fixture.sandbox.runtime.engine.listExecutions();
    const second = await fixture.sandbox.runtime.sweep();

    expect(first.started).toBe(1);
    expect(first.alreadyStarted).toBeGreaterThanOrEqual(1);
    expect(first.failed).toBe(0);
    expect(second.failed).toBe(0);
    expect(afterFirst).toHaveLength(before + 1);
    expect(fixture.sandbox.runtime.engine.listExecutions()).toHaveLength(before + 1);
    const swept = afterFirst.find((run) => run.name?.startsWith('backend-v2.1.8-'));
    const input = fixture.sandbox.runtime.engine.describeExecution(swept?.name ?? '').input ?? '';
    expect(input).toContain(missed.digest);
  });
});
