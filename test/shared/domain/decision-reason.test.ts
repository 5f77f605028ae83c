import { describe, expect, it } from 'vitest';
import { checkedDecisionReason, REASON_MAX_LENGTH } from '../../../shared/domain/approval.js';

describe('checkedDecisionReason (the one rule of Slack, the CLI and the sandbox)', () => {
  it('refuses a rejection without a reason, or with only white space', () => {
    for (const reason of [undefined, '', '   ', '\n\t \u00a0']) {
      expect(checkedDecisionReason('rejected', reason)).toEqual({
        problem: { kind: 'empty', message: 'say why you reject it' },
      });
    }
  });

  it('refuses a reason over the limit after trimming, for an approval too', () => {
    const long = 'x'.repeat(REASON_MAX_LENGTH + 1);
    for (const decision of ['approved', 'rejected'] as const) {
      expect(checkedDecisionReason(decision, long)).toEqual({
        problem: { kind: 'too-long', max: 500, message: 'keep it to 500 characters (it has 501)' },
      });
    }
    expect(checkedDecisionReason('rejected', `  ${'x'.repeat(REASON_MAX_LENGTH)}  `)).toEqual({
      reason: 'x'.repeat(REASON_MAX_LENGTH),
    });
  });

  it('records the reason trimmed, and an approval given only spaces with none', () => {
    expect(checkedDecisionReason('rejected', '  checkout errors\n')).toEqual({ reason: 'checkout errors' });
    expect(checkedDecisionReason('approved', '   ')).toEqual({ reason: undefined });
    expect(checkedDecisionReason('approved', undefined)).toEqual({ reason: undefined });
  });
});
