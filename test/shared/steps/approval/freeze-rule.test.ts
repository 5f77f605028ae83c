/**
 * The freeze rule for decisions made outside Slack (`shiplane approve`, the sandbox's console): during
 * a freeze only a break glass with a reason approves; a break glass outside one is refused; the CLI,
 * which reads no config, keeps the rule with the windows the run stored on its approval.
 */
import { describe, expect, it } from 'vitest';
import type { FreezeWindowConfig } from '../../../../shared/config/freeze.js';
import type { ApprovalRecord } from '../../../../shared/ports/approvals-store.js';
import { freezeRuleFor, freezeToBreak } from '../../../../shared/steps/approval/freeze-rule.js';

/** Production is frozen 13:00Z on 2026-11-26 until 03:00 JST the next day (18:00Z). */
const freeze: FreezeWindowConfig = {
  kind: 'fixed',
  from: '2026-11-26T13:00:00Z',
  to: '2026-11-27T03:00:00+09:00',
  reason: 'release freeze',
};
const DURING = new Date('2026-11-26T14:00:00Z');
const AFTER = new Date('2026-11-26T18:00:00Z');

function record(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    approvalId: 'backend-v2.1.6-aaaaaaaaaaaa#production',
    execution: 'backend-v2.1.6-aaaaaaaaaaaa',
    stage: 'production',
    taskToken: 'token',
    status: 'pending',
    approvers: ['U0ALICE'],
    facts: { app: 'backend', tag: 'v2.1.6' } as ApprovalRecord['facts'],
    createdAt: '2026-11-26T13:30:00Z',
    deadline: 1_800_000_000,
    expiresAt: 1_900_000_000,
    freeze: [freeze],
    ...overrides,
  };
}

describe('freezeRuleFor', () => {
  it('refuses a plain approval during the freeze, saying until when', () => {
    const rule = freezeRuleFor({ decision: 'approved' }, record(), undefined, DURING);
    expect(rule).toEqual({
      problem: expect.stringMatching(
        /^production frozen until .*release freeze; approving during a change freeze needs break glass/,
      ),
    });
  });

  it('approves a break glass with a reason, recording the freeze it broke', () => {
    const rule = freezeRuleFor(
      { decision: 'approved', breakGlass: true, reason: 'hotfix for the outage' },
      record(),
      undefined,
      DURING,
    );
    expect(rule).toEqual({
      breakGlass: { until: '2026-11-26T18:00:00.000Z', freeze: expect.stringContaining('release freeze') },
    });
  });

  it.each([undefined, '', '   '])('refuses a break glass whose reason is %j', (reason) => {
    const rule = freezeRuleFor(
      { decision: 'approved', breakGlass: true, ...(reason === undefined ? {} : { reason }) },
      record(),
      undefined,
      DURING,
    );
    expect(rule).toEqual({ problem: expect.stringMatching(/^break glass needs a reason/) });
  });

  it('after the window: a plain approval goes through; a break glass is refused (nothing to break)', () => {
    expect(freezeRuleFor({ decision: 'approved' }, record(), undefined, AFTER)).toEqual({});
    expect(
      freezeRuleFor({ decision: 'approved', breakGlass: true, reason: 'x' }, record(), undefined, AFTER),
    ).toEqual({
      problem: expect.stringMatching(/production is not frozen now/),
    });
  });

  it('never holds a rejection, and refuses a break glass on one', () => {
    expect(freezeRuleFor({ decision: 'rejected', reason: 'no' }, record(), undefined, DURING)).toEqual({});
    expect(
      freezeRuleFor({ decision: 'rejected', breakGlass: true, reason: 'no' }, record(), undefined, DURING),
    ).toEqual({ problem: expect.stringMatching(/break glass is for approving/) });
  });

  it("the config's windows (when the caller has them) win over those stored on the approval", () => {
    // The freeze was lifted from the config after the run asked: Approve goes through.
    expect(freezeRuleFor({ decision: 'approved' }, record(), [], DURING)).toEqual({});
    // A freeze added after the run asked holds it too.
    expect(freezeRuleFor({ decision: 'approved' }, record({ freeze: [] }), [freeze], DURING)).toHaveProperty(
      'problem',
    );
  });

  it('an approval stored without windows (before freezes existed, or a stage without any) is never held', () => {
    const { freeze: _none, ...older } = record();
    expect(freezeRuleFor({ decision: 'approved' }, older, undefined, DURING)).toEqual({});
  });

  it('a manual rollback is never held by a freeze: recovery stays possible', () => {
    const rollback = record({
      facts: {
        app: 'backend',
        tag: 'v2.1.5',
        rollback: { reason: 'v2.1.6 broke checkout' },
      } as ApprovalRecord['facts'],
    });
    expect(freezeToBreak(rollback, undefined, DURING)).toBeUndefined();
    expect(freezeRuleFor({ decision: 'approved' }, rollback, undefined, DURING)).toEqual({});
  });
});
