import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.js';
import { toConfigInput } from '../../../shared/config/runtime.js';
import { parseConfigShape } from '../../../shared/config/shape.js';
import { parseConfigWithTagPatterns } from '../../../shared/config/validate.js';
import { problemsOf, shippedConfig } from './helpers.js';

const weekend = {
  cron: '0 18 * * 5',
  duration: '60h',
  timezone: 'Asia/Tokyo',
  reason: 'release freeze',
};
const yearEnd = {
  from: '2026-12-28T00:00:00+09:00',
  to: '2027-01-04T09:00:00+09:00',
  reason: 'year-end holidays',
};

function withFreeze(...entries: unknown[]) {
  const raw = shippedConfig();
  raw.stages[1].freeze = entries;
  return raw;
}

describe('stages[].freeze', () => {
  it('reads fixed and recurring windows: durations in seconds, reasons trimmed', () => {
    const config = parseConfig(withFreeze(weekend, { ...yearEnd, reason: ' year-end holidays ' }));

    expect(config.stages[1]?.freeze).toEqual([
      {
        kind: 'recurring',
        cron: '0 18 * * 5',
        duration: 216_000,
        timezone: 'Asia/Tokyo',
        reason: 'release freeze',
      },
      { kind: 'fixed', ...yearEnd },
    ]);
    expect(config.stages[0]?.freeze).toEqual([]);
  });

  it('survives the trip through SHIPLANE_CONFIG', () => {
    const config = parseConfig(withFreeze(weekend, yearEnd));

    expect(parseConfig(JSON.parse(JSON.stringify(toConfigInput(config))))).toEqual(config);
  });

  it.each([
    [
      'a date-time without an offset',
      { ...yearEnd, from: '2026-12-28T00:00:00' },
      'stages[1].freeze[0].from',
      /ISO 8601 date-time with an offset .* got "2026-12-28T00:00:00"/,
    ],
    [
      'to before from',
      { ...yearEnd, to: '2026-12-27T00:00:00+09:00' },
      'stages[1].freeze[0].to',
      /must be after from/,
    ],
    [
      'to equal to from',
      { ...yearEnd, to: '2026-12-27T15:00:00Z' },
      'stages[1].freeze[0].to',
      /must be after from/,
    ],
    [
      'a missing to',
      { from: yearEnd.from, reason: 'x' },
      'stages[1].freeze[0].to',
      /required for a fixed window/,
    ],
    [
      'an unknown zone',
      { ...weekend, timezone: 'Asia/Tokio' },
      'stages[1].freeze[0].timezone',
      /IANA time zone .*"Asia\/Tokio"/,
    ],
    [
      'an offset as a zone',
      { ...weekend, timezone: '+09:00' },
      'stages[1].freeze[0].timezone',
      /IANA time zone/,
    ],
    [
      'a bad cron field',
      { ...weekend, cron: '0 18 * * 9' },
      'stages[1].freeze[0].cron',
      /five fields .*"0 18 \* \* 9"/,
    ],
    ['a six-field cron', { ...weekend, cron: '0 0 18 * * 5' }, 'stages[1].freeze[0].cron', /five fields/],
    [
      'a cron that never runs',
      { ...weekend, cron: '0 0 30 2 *' },
      'stages[1].freeze[0].cron',
      /never starts a window/,
    ],
    [
      'a bad duration',
      { ...weekend, duration: 'all weekend' },
      'stages[1].freeze[0].duration',
      /duration like 90m.*"all weekend"/,
    ],
    [
      'a missing timezone',
      { cron: weekend.cron, duration: '1h', reason: 'x' },
      'stages[1].freeze[0].timezone',
      /required for a recurring window/,
    ],
    ['a blank reason', { ...weekend, reason: '   ' }, 'stages[1].freeze[0].reason', /expected a reason/],
    ['no reason', { from: yearEnd.from, to: yearEnd.to }, 'stages[1].freeze[0].reason', /required/],
    [
      'both kinds at once',
      { ...yearEnd, cron: weekend.cron },
      'stages[1].freeze[0]',
      /either from and to, or cron/,
    ],
    [
      'neither kind',
      { reason: 'x' },
      'stages[1].freeze[0]',
      /set from and to .* or cron, duration and timezone/,
    ],
    ['an unknown key', { ...weekend, until: 'monday' }, 'stages[1].freeze[0].until', /unknown key/],
  ])('refuses %s, naming the stage and the entry', (_, entry, path, message) => {
    expect(problemsOf(withFreeze(entry))).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('lists every bad entry of every stage at once', () => {
    const raw = withFreeze(
      weekend,
      { ...weekend, timezone: 'Mars/Olympus' },
      { ...yearEnd, to: yearEnd.from },
    );
    raw.stages[0].freeze = [{ ...weekend, duration: '0s' }];

    expect(problemsOf(raw).map((problem) => problem.path)).toEqual([
      'stages[0].freeze[0].duration',
      'stages[1].freeze[1].timezone',
      'stages[1].freeze[2].to',
    ]);
  });

  it("reports a bad cron beside the schema's problems (after them)", () => {
    const raw = withFreeze({ ...weekend, cron: '0 18 * * 9' }, { ...weekend, duration: 'soon' });

    expect(problemsOf(raw).map((problem) => problem.path)).toEqual([
      'stages[1].freeze[1].duration',
      'stages[1].freeze[0].cron',
    ]);
  });

  it('leaves cron patterns to the full check: the handlers read a config synth already checked, without croner', () => {
    const raw = withFreeze({ ...weekend, cron: '0 18 * * 9' });

    expect(problemsOf(raw)).toEqual([
      { path: 'stages[1].freeze[0].cron', message: expect.stringMatching(/five fields/) },
    ]);
    expect(parseConfigShape(raw).stages[1]?.freeze[0]).toMatchObject({
      kind: 'recurring',
      cron: '0 18 * * 9',
    });
    expect(parseConfigWithTagPatterns(raw).stages[1]?.freeze).toHaveLength(1);
  });
});
