import { describe, expect, it } from 'vitest';
import { outcomeOfRun, retryRefusal } from '../../../shared/domain/retry.js';

describe('retryRefusal', () => {
  it.each([
    ['FAILED', undefined],
    ['TIMED_OUT', undefined],
    ['ABORTED', undefined],
    ['FAILED', { outcome: 'rolled-back' }],
    ['SUCCEEDED', { outcome: 'rejected' }],
    ['SUCCEEDED', { outcome: 'expired' }],
  ])('lets a %s run with output %j be retried', (status, output) => {
    expect(retryRefusal({ status, output })).toBeUndefined();
  });

  it.each([
    ['RUNNING', undefined, 'is still running; wait for it to end'],
    ['PENDING_REDRIVE', undefined, 'is still running; wait for it to end'],
    ['SUCCEEDED', { outcome: 'deployed' }, 'deployed its release; push a new tag to release again'],
    [
      'SUCCEEDED',
      { outcome: 'superseded' },
      'was superseded: a newer release is already in the stage, so a retry would not deploy it',
    ],
    ['SUCCEEDED', {}, 'ended without an outcome, which is not a failure to retry'],
  ])('refuses a %s run with output %j', (status, output, reason) => {
    expect(retryRefusal({ status, output })).toBe(reason);
  });
});

describe('outcomeOfRun', () => {
  it("reads the output's outcome, and calls a run that failed, timed out or was stopped failed", () => {
    expect(outcomeOfRun({ status: 'SUCCEEDED', output: { outcome: 'deployed' } })).toBe('deployed');
    expect(outcomeOfRun({ status: 'ABORTED', output: undefined })).toBe('failed');
    expect(outcomeOfRun({ status: 'RUNNING', output: undefined })).toBeUndefined();
  });
});
