/**
 * The scan gate in the sandbox: backend is gated at HIGH (the sandbox's config), the ECR stand-in
 * gives a `-vuln` tag one CRITICAL finding, and the real scan-gate handler reads it through the real
 * ECR adapter. The run ends `blocked` before anything is committed, and the thread names the finding.
 */
import { describe, expect, it } from 'vitest';
import { commitLog, currentTags } from '../../../local/sandbox/gitops-repo.js';
import { outcomeOf, threadOf, useSandbox } from './sandbox-fixture.js';

const fixture = useSandbox('scan-gate', { tag: 'v2.1.7-vuln', approve: 'auto', timeoutMs: 240_000 });

describe('the scan gate in the sandbox', () => {
  it('blocks backend v2.1.7-vuln: nothing committed, the finding in the thread', async () => {
    const { sandbox } = fixture;
    const execution = sandbox.scenarioExecution ?? '';
    const before = await commitLog(sandbox.repoDir);

    expect(await outcomeOf(sandbox, execution)).toBe('blocked');

    const after = await commitLog(sandbox.repoDir);
    expect(after.map((c) => c.sha)).toEqual(before.map((c) => c.sha));
    expect(after.some((c) => c.subject.includes('v2.1.7-vuln'))).toBe(false);
    const tags = await currentTags(sandbox.repoDir);
    expect(tags.staging?.backend).not.toBe('v2.1.7-vuln');
    expect(tags.production?.backend).not.toBe('v2.1.7-vuln');

    const thread = threadOf(sandbox, execution);
    const blocked = thread.replies.find((text) => text?.includes('scan gate blocked it'));
    expect(blocked).toBeDefined();
    expect(blocked).toMatch(/CVE-\d{4}-\d+/);
    expect(blocked).toMatch(/CRITICAL/i);
  }, 240_000);

  it('lets a clean tag of the same app through the gate to staging', async () => {
    const { sandbox } = fixture;
    const pushed = await sandbox.push('backend', 'v2.1.8');
    const execution = pushed.execution ?? '';
    expect(await outcomeOf(sandbox, execution)).toBe('deployed');
    expect((await currentTags(sandbox.repoDir)).staging?.backend).toBe('v2.1.8');
  }, 240_000);

  it("wakes a run waiting for its scan with the ECR stand-in's ECR Image Scan event, before the poll", async () => {
    const { sandbox } = fixture;
    const pushed = await sandbox.push('backend', 'v2.1.9');
    const execution = pushed.execution ?? '';
    expect(await outcomeOf(sandbox, execution)).toBe('deployed');

    // Between entering `Wait for the scan` and leaving it: answered (TaskSucceeded), never timed out.
    const history = sandbox.runtime.engine.history(execution);
    const entered = history.findIndex(
      (e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'Wait for the scan',
    );
    expect(
      entered,
      JSON.stringify(history.map((e) => [e.type, e.stateEnteredEventDetails?.name])),
    ).toBeGreaterThanOrEqual(0);
    const exited = history.findIndex((e, index) => index > entered && e.type === 'TaskStateExited');
    const during = history.slice(entered, exited).map((e) => e.type);
    expect(during).toContain('TaskSucceeded');
    expect(during).not.toContain('TaskTimedOut');
    expect(
      JSON.parse(
        history.slice(entered, exited).find((e) => e.type === 'TaskSucceeded')?.taskSucceededEventDetails
          ?.output ?? '{}',
      ),
    ).toMatchObject({
      wokenBy: 'ECR Image Scan',
      scanStatus: 'COMPLETE',
    });
  }, 240_000);
});
