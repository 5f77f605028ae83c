import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FreezeWindowConfig } from '../../../shared/config/freeze.js';
import {
  FREEZE_HORIZON_MS,
  formatFreezeEnd,
  freezeNotice,
  freezeStateAt,
  nextFreezeStart,
  occurrenceAt,
} from '../../../shared/domain/freeze-window.js';

const at = (iso: string) => new Date(iso);

const recurring = (
  cron: string,
  hours: number,
  timezone: string,
  reason = 'release freeze',
): FreezeWindowConfig => ({
  kind: 'recurring',
  cron,
  duration: hours * 3600,
  timezone,
  reason,
});
const fixed = (from: string, to: string, reason = 'year end'): FreezeWindowConfig => ({
  kind: 'fixed',
  from,
  to,
  reason,
});

/** Friday 18:00 to Monday 06:00 in Tokyo (60 hours). */
const tokyoWeekend = recurring('0 18 * * 5', 60, 'Asia/Tokyo');

describe('freezeStateAt', () => {
  it('is open with no windows', () => {
    expect(freezeStateAt([], at('2026-12-04T12:00:00Z'))).toEqual({ status: 'open' });
  });

  it('freezes a Tokyo weekend from Friday 18:00 JST to Monday 06:00 JST (no DST in Tokyo)', () => {
    // Friday 2026-12-04 18:00 JST = 09:00Z; Monday 2026-12-07 06:00 JST = Sunday 21:00Z.
    expect(freezeStateAt([tokyoWeekend], at('2026-12-04T08:59:59Z'))).toEqual({ status: 'open' });
    expect(freezeStateAt([tokyoWeekend], at('2026-12-05T12:00:00Z'))).toEqual({
      status: 'frozen',
      until: at('2026-12-06T21:00:00Z'),
      reasons: ['release freeze'],
      timeZone: 'Asia/Tokyo',
    });
    // Mid-summer the same window has the same UTC instants: Tokyo keeps one offset all year.
    expect(freezeStateAt([tokyoWeekend], at('2026-07-04T00:00:00Z'))).toMatchObject({
      until: at('2026-07-05T21:00:00Z'),
    });
  });

  it('counts the start instant in and the end instant out', () => {
    expect(freezeStateAt([tokyoWeekend], at('2026-12-04T09:00:00Z'))).toMatchObject({
      status: 'frozen',
      until: at('2026-12-06T21:00:00Z'),
    });
    expect(freezeStateAt([tokyoWeekend], at('2026-12-06T21:00:00Z'))).toEqual({ status: 'open' });
    expect(freezeStateAt([tokyoWeekend], at('2026-12-06T20:59:59.999Z'))).toMatchObject({ status: 'frozen' });

    const window = fixed('2026-12-24T18:00:00+01:00', '2026-12-27T00:00:00+01:00');
    expect(freezeStateAt([window], at('2026-12-24T17:00:00Z'))).toMatchObject({
      status: 'frozen',
      until: at('2026-12-26T23:00:00Z'),
      timeZone: '+01:00',
    });
    expect(freezeStateAt([window], at('2026-12-24T16:59:59.999Z'))).toEqual({ status: 'open' });
    expect(freezeStateAt([window], at('2026-12-26T23:00:00Z'))).toEqual({ status: 'open' });
  });

  describe('America/New_York across daylight-saving changes', () => {
    // Saturday 00:00 to Monday 00:00 local: 48 hours by the clock, but 47 or 49 real hours on DST weekends.
    const nyWeekend = recurring('0 0 * * 6', 48, 'America/New_York', 'weekend');

    it('spring-forward weekend (2026-03-08): starts at EST midnight, ends 48 real hours later in EDT', () => {
      // Saturday 2026-03-07 00:00 EST = 05:00Z.
      const state = freezeStateAt([nyWeekend], at('2026-03-08T12:00:00Z'));
      expect(state).toMatchObject({ status: 'frozen', until: at('2026-03-09T05:00:00Z') });
      // 48 real hours end at 01:00 EDT on Monday: that is what the thread says.
      if (state.status === 'frozen') {
        expect(formatFreezeEnd(state.until, state.timeZone, at('2026-03-08T12:00:00Z'))).toBe(
          'Mon 01:00 EDT',
        );
      }
    });

    it('fall-back weekend (2026-11-01): starts at EDT midnight and ends at 23:00 EST on Sunday', () => {
      // Saturday 2026-10-31 00:00 EDT = 04:00Z; +48h = 2026-11-02T04:00Z = Sunday 23:00 EST.
      const state = freezeStateAt([nyWeekend], at('2026-11-01T05:30:00Z'));
      expect(state).toMatchObject({ status: 'frozen', until: at('2026-11-02T04:00:00Z') });
      if (state.status === 'frozen') {
        expect(formatFreezeEnd(state.until, state.timeZone, at('2026-11-01T05:30:00Z'))).toBe(
          'Sun 23:00 EST',
        );
      }
    });

    it('a window starting at a skipped local time (02:30 on spring-forward day) starts at 03:00 EDT', () => {
      const nightly = recurring('30 2 * * *', 1, 'America/New_York', 'maintenance');
      // 03:00 EDT = 07:00Z on 2026-03-08.
      expect(occurrenceAt(nightly, at('2026-03-08T07:30:00Z'))).toMatchObject({
        start: at('2026-03-08T07:00:00Z'),
        end: at('2026-03-08T08:00:00Z'),
      });
      expect(freezeStateAt([nightly], at('2026-03-08T06:59:00Z'))).toEqual({ status: 'open' });
    });

    it('a window starting at a repeated local time (01:30 on fall-back day) starts once, at the first 01:30', () => {
      const nightly = recurring('30 1 * * *', 0.5, 'America/New_York', 'maintenance');
      // First 01:30 EDT = 05:30Z; the second 01:30 (EST) = 06:30Z is no start.
      expect(freezeStateAt([nightly], at('2026-11-01T05:45:00Z'))).toMatchObject({
        status: 'frozen',
        until: at('2026-11-01T06:00:00Z'),
      });
      expect(freezeStateAt([nightly], at('2026-11-01T06:45:00Z'))).toEqual({ status: 'open' });
    });
  });

  it('Europe/Berlin: a Friday 16:00 to Monday 08:00 window keeps local times across the October change', () => {
    const berlin = recurring('0 16 * * 5', 64, 'Europe/Berlin', 'weekend');
    // Friday 2026-10-23 16:00 CEST = 14:00Z; 64 real hours later = Monday 2026-10-26 06:00Z = 07:00 CET
    // (clocks went back on Sunday the 25th, so the weekend is one hour longer by the clock).
    const state = freezeStateAt([berlin], at('2026-10-24T00:00:00Z'));
    expect(state).toMatchObject({
      status: 'frozen',
      until: at('2026-10-26T06:00:00Z'),
      timeZone: 'Europe/Berlin',
    });
    if (state.status === 'frozen') {
      expect(formatFreezeEnd(state.until, state.timeZone, at('2026-10-24T00:00:00Z'))).toBe('Mon 07:00 CET');
    }
    // The following weekend (all CET) starts at 15:00Z.
    expect(freezeStateAt([berlin], at('2026-10-30T14:59:00Z'))).toEqual({ status: 'open' });
    expect(freezeStateAt([berlin], at('2026-10-30T15:00:00Z'))).toMatchObject({ status: 'frozen' });
  });

  it('chains adjacent windows until the freeze really ends, in the zone of the last one', () => {
    const windows = [
      fixed('2026-12-04T00:00:00Z', '2026-12-04T09:00:00Z', 'audit'),
      tokyoWeekend, // starts exactly when the audit ends
    ];
    expect(freezeStateAt(windows, at('2026-12-04T01:00:00Z'))).toEqual({
      status: 'frozen',
      until: at('2026-12-06T21:00:00Z'),
      reasons: ['audit', 'release freeze'],
      timeZone: 'Asia/Tokyo',
    });
  });

  it('chains overlapping windows, whichever ends first', () => {
    const windows = [tokyoWeekend, fixed('2026-12-06T12:00:00Z', '2026-12-07T03:00:00+09:00', 'migration')];
    // The fixed window ends at 2026-12-06T18:00Z, inside the weekend: the weekend's end decides.
    expect(freezeStateAt(windows, at('2026-12-06T13:00:00Z'))).toMatchObject({
      until: at('2026-12-06T21:00:00Z'),
      reasons: ['release freeze', 'migration'],
    });
    const longer = [tokyoWeekend, fixed('2026-12-06T12:00:00Z', '2026-12-07T09:00:00+09:00', 'migration')];
    expect(freezeStateAt(longer, at('2026-12-05T00:00:00Z'))).toMatchObject({
      until: at('2026-12-07T00:00:00Z'),
      reasons: ['release freeze', 'migration'],
      timeZone: '+09:00',
    });
  });

  it('a recurring window longer than its period chains every start it overlaps', () => {
    const hourlyTwoHours = recurring('0 * * * *', 2, 'UTC', 'busy');
    const until = at('2026-12-04T12:00:00Z').getTime() + 366 * 24 * 3600 * 1000;
    // Never a gap: it stops at the horizon (about a year) and the run re-checks then.
    const state = freezeStateAt([hourlyTwoHours], at('2026-12-04T12:00:00Z'));
    expect(state.status).toBe('frozen');
    if (state.status === 'frozen') expect(state.until.getTime()).toBeGreaterThanOrEqual(until);
  });
});

describe('nextFreezeStart', () => {
  it('is the earliest start after the instant', () => {
    const windows = [tokyoWeekend, fixed('2026-12-28T00:00:00+09:00', '2027-01-04T09:00:00+09:00')];
    expect(nextFreezeStart(windows, at('2026-12-01T00:00:00Z'))).toMatchObject({
      start: at('2026-12-04T09:00:00Z'),
      reason: 'release freeze',
    });
    expect(
      nextFreezeStart([fixed('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')], at('2026-12-01T00:00:00Z')),
    ).toBe(undefined);
  });
});

describe('freezeNotice', () => {
  it('reads as the thread says it, in the window zone', () => {
    const state = freezeStateAt([tokyoWeekend], at('2026-12-05T12:00:00Z'));
    if (state.status !== 'frozen') throw new Error('expected frozen');
    expect(freezeNotice('production', state, at('2026-12-05T12:00:00Z'))).toBe(
      'production frozen until Mon 06:00 JST: release freeze',
    );
  });

  it('adds the date a week or more ahead, and shows fixed offsets as UTC±hh:mm', () => {
    const window = fixed('2026-12-20T00:00:00Z', '2027-01-04T09:00:00+09:00', 'year end');
    const state = freezeStateAt([window], at('2026-12-21T00:00:00Z'));
    if (state.status !== 'frozen') throw new Error('expected frozen');
    expect(freezeNotice('production', state, at('2026-12-21T00:00:00Z'))).toBe(
      'production frozen until Mon 4 Jan 09:00 UTC+09:00: year end',
    );
    expect(formatFreezeEnd(at('2026-12-21T10:00:00Z'), '+00:00', at('2026-12-21T00:00:00Z'))).toBe(
      'Mon 10:00 UTC',
    );
  });
});

describe('freeze properties', () => {
  const zones = ['Asia/Tokyo', 'Europe/Berlin', 'America/New_York', 'UTC', 'Australia/Lord_Howe'];
  const windowArb: fc.Arbitrary<FreezeWindowConfig> = fc.oneof(
    fc
      .record({
        minute: fc.integer({ min: 0, max: 59 }),
        hour: fc.integer({ min: 0, max: 23 }),
        weekday: fc.oneof(fc.constant('*'), fc.integer({ min: 0, max: 6 }).map(String)),
        hours: fc.integer({ min: 1, max: 72 }),
        timezone: fc.constantFrom(...zones),
      })
      .map(({ minute, hour, weekday, hours, timezone }) =>
        recurring(`${minute} ${hour} * * ${weekday}`, hours / 4, timezone, `${hour}:${minute}/${weekday}`),
      ),
    fc
      .record({
        from: fc.integer({ min: 0, max: 60 * 24 * 30 }),
        minutes: fc.integer({ min: 1, max: 60 * 24 * 5 }),
      })
      .map(({ from, minutes }) => {
        const start = at('2026-03-01T00:00:00Z').getTime() + from * 60_000;
        return fixed(
          new Date(start).toISOString(),
          new Date(start + minutes * 60_000).toISOString(),
          'fixed',
        );
      }),
  );
  const instantArb = fc
    .integer({ min: 0, max: 60 * 24 * 60 })
    .map((minutes) => new Date(at('2026-03-01T00:00:00Z').getTime() + minutes * 60_000 + 17_000));

  it('windows that leave no gap (New York 04:00–19:00 and Berlin 00:00–10:00, daily): frozen past the horizon, marked endless', () => {
    const windows: FreezeWindowConfig[] = [
      {
        kind: 'recurring',
        cron: '0 4 * * *',
        duration: 54_000,
        timezone: 'America/New_York',
        reason: 'US day',
      },
      {
        kind: 'recurring',
        cron: '0 0 * * *',
        duration: 36_000,
        timezone: 'Europe/Berlin',
        reason: 'EU night',
      },
    ];
    const now = at('2026-03-01T00:00:17Z');
    const state = freezeStateAt(windows, now);
    expect(state).toMatchObject({ status: 'frozen', endless: true, reasons: ['EU night', 'US day'] });
    if (state.status !== 'frozen') return;
    expect(state.until.getTime() - now.getTime()).toBeGreaterThanOrEqual(FREEZE_HORIZON_MS);
    expect(freezeStateAt(windows, state.until).status).toBe('frozen');
    expect(freezeNotice('production', state, now)).toMatch(
      /^production frozen until at least .*: EU night; US day$/,
    );
  });

  it('the end returned is inside no window, every instant before it is frozen, and it is after now', () => {
    fc.assert(
      fc.property(fc.array(windowArb, { minLength: 1, maxLength: 3 }), instantArb, (windows, now) => {
        const state = freezeStateAt(windows, now);
        if (state.status === 'open') {
          expect(windows.every((window) => occurrenceAt(window, now) === undefined)).toBe(true);
          return;
        }
        expect(state.until.getTime()).toBeGreaterThan(now.getTime());
        if (state.endless) {
          // Windows that leave no gap (e.g. two daily ones covering the whole day between them):
          // the chain stops at the horizon, still frozen there, and the run looks again then.
          expect(freezeStateAt(windows, state.until).status).toBe('frozen');
          return;
        }
        expect(windows.every((window) => occurrenceAt(window, state.until) === undefined)).toBe(true);
        expect(freezeStateAt(windows, state.until)).toEqual({ status: 'open' });
        // now + ε and the last instant before the end are still frozen, with the same end.
        for (const instant of [now.getTime() + 1, state.until.getTime() - 1]) {
          expect(freezeStateAt(windows, new Date(instant))).toMatchObject({
            status: 'frozen',
            until: state.until,
          });
        }
      }),
      { numRuns: 150 },
    );
  });
});
