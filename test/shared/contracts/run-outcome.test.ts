import { describe, expect, it } from 'vitest';
import {
  asRunOutcome,
  ERRORS,
  failedRunOutcome,
  isSettledOutcome,
  RUN_OUTCOMES,
  runOutcomeSchema,
} from '../../../shared/contracts/tasks.js';

describe('RUN_OUTCOMES: the one list of run outcomes', () => {
  it('is what the schema accepts, and nothing else', () => {
    expect(runOutcomeSchema.options).toEqual(Object.keys(RUN_OUTCOMES));
    expect(runOutcomeSchema.safeParse('succeeded').success).toBe(false);
    expect(runOutcomeSchema.parse('rolled-back')).toBe('rolled-back');
  });

  it('says the outcomes a failed run is read as are the ones that end FAILED', () => {
    const failed = Object.entries(RUN_OUTCOMES)
      .filter(([, meaning]) => meaning.ends === 'FAILED')
      .map(([outcome]) => outcome)
      .sort();
    expect([failedRunOutcome(ERRORS.rolledBack), failedRunOutcome('Shiplane.CommitFailed')].sort()).toEqual(
      failed,
    );
  });

  it('counts deployed and superseded as settled, everything else as needing someone', () => {
    expect(Object.keys(RUN_OUTCOMES).filter(isSettledOutcome).sort()).toEqual(['deployed', 'superseded']);
    expect(isSettledOutcome(undefined)).toBe(false);
    expect(isSettledOutcome('ignored')).toBe(false);
  });

  it('reads an outcome from untrusted text, refusing anything else (prototype keys included)', () => {
    expect(asRunOutcome('expired')).toBe('expired');
    expect(asRunOutcome('EXPIRED')).toBeUndefined();
    expect(asRunOutcome('toString')).toBeUndefined();
    expect(asRunOutcome('__proto__')).toBeUndefined();
    expect(asRunOutcome(42)).toBeUndefined();
  });
});
