import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../../shared/ports/task-tokens.js';
import { decisionFromRejection, rejectionCause } from '../../../../shared/steps/approval/decide.js';
import { runAnswer } from '../../../../shared/steps/approval/run-answer.js';

const decision = {
  decision: 'approved',
  approvalId: 'a1',
  by: 'U0PLATFORM1',
  byName: 'alice',
  at: '2026-11-26T14:02:00.000Z',
  via: 'slack',
};
const entered = (name: string, data: unknown): RunEvent => ({
  type: 'TaskStateEntered',
  stateEnteredEventDetails: { name, input: JSON.stringify(data) },
});
const waiting = entered('Production · Await approval', { stages: { production: {} } });

describe('runAnswer (events newest first)', () => {
  it('finds this approval in the data of a later state, past task events of other tasks', () => {
    const events: RunEvent[] = [
      { type: 'TaskFailed', taskFailedEventDetails: { error: 'Shiplane.Superseded', cause: 'commit' } },
      entered('Production · Commit new tag', { stages: { production: { approval: decision } } }),
    ];
    expect(runAnswer(events, 'a1', 'production')).toEqual({ kind: 'approved', decision });
  });

  it("reads the approval task's own TaskSucceeded before the next state has started", () => {
    const events: RunEvent[] = [
      { type: 'TaskSucceeded', taskSucceededEventDetails: { output: JSON.stringify(decision) } },
      { type: 'TaskSubmitted' },
      waiting,
    ];
    expect(runAnswer(events, 'a1', 'production')).toEqual({ kind: 'approved', decision });
    // Another approval's answer is not this one's.
    expect(runAnswer(events, 'b2', 'production')).toEqual({ kind: 'unknown' });
  });

  it('says rejected, expired or superseded from the error a Catch kept or the task event', () => {
    const caught = (error: string, cause = '') =>
      runAnswer(
        [entered('Next', { stages: { production: {} }, error: { Error: error, Cause: cause } })],
        'a1',
        'production',
      );
    expect(caught('Shiplane.Rejected', 'Rejected by bob (U0BOB00001) via slack')).toMatchObject({
      kind: 'rejected',
      cause: 'Rejected by bob (U0BOB00001) via slack',
    });
    expect(caught('States.Timeout')).toEqual({ kind: 'expired' });
    expect(caught('Shiplane.Superseded')).toEqual({ kind: 'superseded' });
    expect(runAnswer([{ type: 'TaskTimedOut' }, waiting], 'a1', 'production')).toEqual({ kind: 'expired' });
  });

  it('says expired for a run stopped while it waited, and unknown for one that still waits', () => {
    expect(runAnswer([{ type: 'ExecutionAborted' }, waiting], 'a1', 'production')).toEqual({
      kind: 'expired',
    });
    expect(runAnswer([{ type: 'TaskSubmitted' }, waiting], 'a1', 'production')).toEqual({ kind: 'unknown' });
    expect(runAnswer([], 'a1', 'production')).toEqual({ kind: 'unknown' });
  });

  it('ignores an approval output that is not a valid decision', () => {
    const forged = entered('Production · Commit new tag', {
      stages: { production: { approval: { approvalId: 'a1', decision: 'approved' } } },
    });
    expect(runAnswer([forged], 'a1', 'production')).toEqual({ kind: 'unknown' });
  });
});

describe('decisionFromRejection', () => {
  it('reads back what rejectionCause wrote', () => {
    const rejected = {
      status: 'rejected' as const,
      by: 'U0BOB00001',
      byName: 'bob',
      at: '2026-11-26T14:03:00.000Z',
      reason: 'CVE-2026-1234: (needs a patch)',
      via: 'slack' as const,
    };
    expect(decisionFromRejection(rejectionCause(rejected), rejected.at)).toEqual(rejected);
    const arn = {
      status: 'rejected' as const,
      by: 'arn:aws:iam::1:user/ops',
      at: rejected.at,
      via: 'cli' as const,
    };
    expect(decisionFromRejection(rejectionCause(arn), arn.at)).toEqual(arn);
    expect(decisionFromRejection('something else', rejected.at)).toBeUndefined();
  });

  it('keeps the rejecter named in a reason from passing for the one who rejected', () => {
    // The reason is free text an approver types into the modal; read back, it stays the reason.
    const forged = 'x (U0EVE00001) via cli: the release looked wrong';
    const withName = {
      status: 'rejected' as const,
      by: 'U0BOB00001',
      byName: 'bob',
      at: '2026-11-26T14:03:00.000Z',
      reason: forged,
      via: 'slack' as const,
    };
    expect(decisionFromRejection(rejectionCause(withName), withName.at)).toEqual(withName);
    const { byName: _, ...withoutName } = withName;
    expect(decisionFromRejection(rejectionCause(withoutName), withoutName.at)).toEqual(withoutName);
  });
});
