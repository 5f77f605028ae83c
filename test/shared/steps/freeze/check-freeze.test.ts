import { describe, expect, it } from 'vitest';
import type { FreezeWindowConfig } from '../../../../shared/config/freeze.js';
import { freezeStatusSchema } from '../../../../shared/contracts/freeze.js';
import { checkFreeze } from '../../../../shared/steps/freeze/check-freeze.js';
import { approvalRequest, manualClock, recordingReporter, release } from '../../../fixtures/slack/context.js';

const tokyoWeekend: FreezeWindowConfig = {
  kind: 'recurring',
  cron: '0 18 * * 5',
  duration: 60 * 3600,
  timezone: 'Asia/Tokyo',
  reason: 'release freeze',
};
const yearEnd: FreezeWindowConfig = {
  kind: 'fixed',
  from: '2026-11-29T20:00:00Z',
  to: '2026-11-30T09:00:00+09:00',
  reason: 'month-end close',
};

function deps(windows: Record<string, readonly FreezeWindowConfig[]>, at: string) {
  return {
    freezeWindows: (stage: string) => windows[stage],
    now: manualClock(at).now,
    reporter: recordingReporter(),
  };
}

const check = (stage = 'production') => ({
  check: 'freeze' as const,
  execution: approvalRequest().execution,
  release: release(),
  stage,
});

describe('checkFreeze', () => {
  it('answers open outside the windows', () => {
    // Thursday 2026-11-26 14:00Z: before the Friday 18:00 JST start.
    expect(checkFreeze(check(), deps({ production: [tokyoWeekend] }, '2026-11-26T14:00:00Z'))).toEqual({
      status: 'open',
      checkedAt: '2026-11-26T14:00:00.000Z',
    });
  });

  it('answers frozen with the end, the reason and the notice in the window zone', () => {
    // Saturday 2026-11-28 03:00Z, inside the weekend that ends Monday 06:00 JST (Sunday 21:00Z).
    const status = checkFreeze(check(), deps({ production: [tokyoWeekend] }, '2026-11-28T03:00:00Z'));

    expect(freezeStatusSchema.parse(status)).toEqual({
      status: 'frozen',
      until: '2026-11-29T21:00:00.000Z',
      reason: 'release freeze',
      timeZone: 'Asia/Tokyo',
      notice: 'production frozen until Mon 06:00 JST: release freeze',
      checkedAt: '2026-11-28T03:00:00.000Z',
    });
  });

  it('chains a window that starts before the other ends: the end is the last one, both reasons given', () => {
    const status = checkFreeze(
      check(),
      deps({ production: [tokyoWeekend, yearEnd] }, '2026-11-28T03:00:00Z'),
    );

    expect(status).toMatchObject({
      status: 'frozen',
      until: '2026-11-30T00:00:00.000Z',
      reason: 'release freeze; month-end close',
    });
  });

  it('answers open for a stage without windows, and fails closed for a stage its config does not know', () => {
    const given = deps({ production: [tokyoWeekend], staging: [] }, '2026-11-28T03:00:00Z');

    expect(checkFreeze(check('staging'), given)).toMatchObject({ status: 'open' });
    expect(() => checkFreeze(check('canary'), given)).toThrow(
      /no stage canary .*cannot tell whether it is frozen/,
    );
  });
});
