/**
 * `shiplane retry --sandbox` and `shiplane sandbox --tag` end to end: a sandbox whose scenario pushes
 * backend v2.1.7, a rejection, a retry through the sandbox's JSON API that runs as `-r2` and deploys,
 * and the advice the thread, the JSON API and `shiplane show` give after the rejection.
 */
import { describe, expect, it } from 'vitest';
import { retryExecution } from '../../../cli/commands/retry.js';
import { showRun } from '../../../cli/commands/show.js';
import { currentTags } from '../../../local/sandbox/gitops-repo.js';
import { SANDBOX_USERS } from '../../../local/sandbox/sandbox-config.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../../../shared/adapters/slack/approval-message.js';
import { capture, threadOf, useSandbox } from './sandbox-fixture.js';

const fixture = useSandbox('retry', { tag: 'v2.1.7' });

/** Clicks the run's production approval button as the approver, through the signed Slack path. */
async function decide(execution: string, actionId: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const approvalId = await fixture.sandbox.runtime.store.approvalIdFor(execution, 'production');
    const message = fixture.sandbox.slack
      .messages()
      .find((m) => approvalId && JSON.stringify(m.blocks ?? []).includes(`"value":"${approvalId}"`));
    if (message && approvalId) {
      const response = await fetch(`${fixture.sandbox.url}/api/slack/click`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ts: message.ts,
          actionId,
          value: approvalId,
          user: SANDBOX_USERS.approver.id,
        }),
      });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as {
        view?: { id: string; inputs: Array<{ actionId: string }> };
      };
      if (actionId === REJECT_ACTION) {
        // Reject opened the reason modal; submit it as the approver.
        expect(answer.view).toBeDefined();
        const submitted = await fetch(`${fixture.sandbox.url}/api/slack/view`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            viewId: answer.view?.id,
            user: SANDBOX_USERS.approver.id,
            inputs: { [answer.view?.inputs[0]?.actionId ?? '']: 'error rate too high in staging' },
          }),
        });
        expect(await submitted.json()).toMatchObject({ status: 200, closed: true });
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no approval message for ${execution}`);
}

describe('shiplane sandbox --tag', () => {
  it('pushes itdo-erp/backend at the given tag instead of v2.1.6', async () => {
    expect(fixture.sandbox.scenarioExecution).toMatch(/^backend-v2\.1\.7-[0-9a-f]{12}$/);
    expect(fixture.terminal.join('\n')).toContain(
      'ECR push itdo-erp/backend:v2.1.7: started backend-v2.1.7-',
    );
  });
});

describe('shiplane retry --sandbox', () => {
  it('retries a rejected run as -r2, which the approver then deploys', async () => {
    // Prepare: the scenario run is rejected at production.
    const original = fixture.sandbox.scenarioExecution ?? '';
    await decide(original, REJECT_ACTION);
    expect(JSON.parse((await fixture.sandbox.waitForRun(original)).output ?? '{}')).toMatchObject({
      outcome: 'rejected',
    });
    const io = capture();

    // Act
    const code = await retryExecution(original, { sandbox: fixture.sandbox.url }, io);

    // Assess
    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    const retry = `${original}-r2`;
    expect(io.lines).toEqual([
      `started ${retry}, a retry of ${original} (attempt 2)`,
      `follow it: shiplane show ${retry} --sandbox ${fixture.sandbox.url}`,
    ]);
    expect(JSON.parse(fixture.sandbox.runtime.engine.describeExecution(retry).input ?? '{}')).toMatchObject({
      retryOf: original,
      release: { app: 'backend', tag: 'v2.1.7' },
    });
    await decide(retry, APPROVE_ACTION);
    const description = await fixture.sandbox.waitForRun(retry);
    expect(JSON.parse(description.output ?? '{}')).toMatchObject({ outcome: 'deployed' });
    expect((await currentTags(fixture.sandbox.repoDir)).production?.backend).toBe('v2.1.7');
    expect(threadOf(fixture.sandbox, retry).replies).toContain(
      `:repeat: This run is a retry of \`${original}\`.`,
    );
  }, 120_000);

  it('refuses to retry once a retry of the release deployed it, and says so (exit 1)', async () => {
    const original = fixture.sandbox.scenarioExecution ?? '';
    const io = capture();

    const again = await retryExecution(original, { sandbox: fixture.sandbox.url }, io);
    const deployed = await retryExecution(`${original}-r2`, { sandbox: fixture.sandbox.url }, io);

    expect([again, deployed]).toEqual([1, 1]);
    expect(io.errors).toEqual([
      `shiplane retry: ${original}-r2, a retry of the same release, deployed its release; push a new tag to release again`,
      `shiplane retry: ${original}-r2 deployed its release; push a new tag to release again`,
    ]);
    expect(fixture.sandbox.runtime.engine.listExecutions()).toHaveLength(2);
  });

  it('says which execution the sandbox does not have (exit 1), and answers 404 on its API', async () => {
    const io = capture();

    const code = await retryExecution('backend-v9.9.9-000000000000', { sandbox: fixture.sandbox.url }, io);
    const response = await fetch(`${fixture.sandbox.url}/api/executions/backend-v9.9.9-000000000000/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });

    expect(code).toBe(1);
    expect(io.errors).toEqual(['shiplane retry: no execution backend-v9.9.9-000000000000 in the sandbox']);
    expect(response.status).toBe(404);
  });

  it('tells what to do next after the rejection: in the thread, the JSON API and shiplane show', async () => {
    const original = fixture.sandbox.scenarioExecution ?? '';
    const advice = `If it should go ahead after all, ask again with \`shiplane retry ${original}\`; otherwise fix and push a new tag.`;
    const show = capture();

    await showRun(original, { sandbox: fixture.sandbox.url }, show);
    const detail = (await (
      await fetch(`${fixture.sandbox.url}/api/executions/${original}?history=false`)
    ).json()) as {
      nextStep: { kind: string; advice: string };
    };

    expect(
      threadOf(fixture.sandbox, original).replies.some((text) =>
        text?.endsWith(`:point_right: Next: ${advice}`),
      ),
    ).toBe(true);
    expect(detail.nextStep).toMatchObject({ kind: 'retry', advice });
    expect(show.lines).toContain(`next      The promotion was rejected at production's approval. ${advice}`);
  });
});
