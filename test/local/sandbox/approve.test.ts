/**
 * `shiplane approve|reject --sandbox` end to end: a running sandbox whose scenario run waits for
 * production's approval; the CLI decides it through the sandbox's JSON API, on the same
 * exactly-once path as a Slack click, and the run ends as the decision says.
 */
import { describe, expect, it } from 'vitest';
import { decideFromCli } from '../../../cli/commands/approve.js';
import { capture, useSandbox } from './sandbox-fixture.js';

const fixture = useSandbox('approve');

/** Waits until the run asks for production's approval. */
async function awaitApproval(execution: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const id = await fixture.sandbox.runtime.store.approvalIdFor(execution, 'production');
    if (id && (await fixture.sandbox.runtime.store.getApproval(id))?.status === 'pending') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${execution} never asked for approval`);
}

describe('shiplane reject --sandbox', () => {
  it('rejects the waiting run with the reason; a second decision changes nothing', async () => {
    const execution = fixture.sandbox.scenarioExecution;
    if (!execution) throw new Error('the scenario started no run');
    await awaitApproval(execution);
    const io = capture();

    const code = await decideFromCli(
      'rejected',
      execution,
      { sandbox: fixture.sandbox.url, reason: 'not today' },
      { io },
    );

    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    expect(io.lines).toEqual([
      `Rejected backend v2.1.6 for production (run ${execution}) as the sandbox (shiplane approve --sandbox).`,
    ]);
    await fixture.sandbox.waitForRun(execution);
    const summary = await fixture.sandbox.summary(execution);
    expect(summary.outcome).toBe('rejected');
    const record = await fixture.sandbox.runtime.store.getApproval(
      (await fixture.sandbox.runtime.store.approvalIdFor(execution, 'production')) ?? '',
    );
    expect(record).toMatchObject({ status: 'rejected', decision: { via: 'cli', reason: 'not today' } });

    const again = capture();
    expect(await decideFromCli('approved', execution, { sandbox: fixture.sandbox.url }, { io: again })).toBe(
      1,
    );
    expect(again.errors).toHaveLength(1);
    expect(again.errors[0]).toMatch(/^shiplane approve: already rejected by the sandbox .* nothing changed$/);
  }, 120_000);

  it('says so when the run has no approval, exit 1', async () => {
    const io = capture();

    const code = await decideFromCli(
      'approved',
      'backend-v9-000000000000',
      { sandbox: fixture.sandbox.url },
      { io },
    );

    expect(code).toBe(1);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toMatch(
      /^shiplane approve: the sandbox at .* could not approve backend-v9-000000000000 \(HTTP 404\): no approval for backend-v9-000000000000/,
    );
  });

  it('finds the sandbox started in this folder when --sandbox has no URL', async () => {
    const io = capture();

    const code = await decideFromCli(
      'approved',
      'backend-v9-000000000000',
      { sandbox: true },
      { io, cwd: fixture.workdir },
    );

    // No sandbox state file in that folder: says how to start one.
    expect(code).toBe(1);
    expect(io.errors[0]).toMatch(/no running sandbox found .*npm start/);
  });
});
