/**
 * `stages[].freeze`: change-freeze windows. An entry is either a fixed window (`from`, `to`: ISO 8601
 * date-times with an offset) or a recurring one (`cron` in `timezone`, lasting `duration`). Zones are
 * checked with the runtime's IANA zone data (Intl), not by hand; cron patterns by croner, in
 * freeze-cron.ts, which only the full check (load.ts) and the window computations import.
 */
import * as z from '../contracts/zod.js';
import { parseDuration } from './duration.js';

/** `2026-12-24T18:00:00+09:00` or `…Z`: a date-time that names its offset, so it means one instant. */
const DATE_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export interface FixedFreezeWindow {
  readonly kind: 'fixed';
  /** As written, with its offset (the offset is the zone the end is shown in). */
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

export interface RecurringFreezeWindow {
  readonly kind: 'recurring';
  /** Five fields: minute hour day-of-month month day-of-week, in `timezone`. */
  readonly cron: string;
  /** Seconds. */
  readonly duration: number;
  /** IANA zone name, e.g. Asia/Tokyo. */
  readonly timezone: string;
  readonly reason: string;
}

export type FreezeWindowConfig = FixedFreezeWindow | RecurringFreezeWindow;

/** Whether the runtime knows the IANA zone (`Asia/Tokyo`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || /^[+-]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const text = z.optional(z.string({ error: 'expected a string' }));

const entry = z.strictObject({
  from: text,
  to: text,
  cron: text,
  duration: text,
  timezone: text,
  reason: z.string({ error: 'expected a reason (shown in Slack while the stage is frozen)' }).check(
    z.refine((value) => value.trim() !== '', 'expected a reason (shown in Slack while the stage is frozen)'),
    z.maxLength(200, 'keep the reason under 200 characters'),
  ),
});

type Entry = z.output<typeof entry>;

/** Every problem of one entry, each with the key it is about. */
function entryProblems(value: Entry): Array<{ path: string[]; message: string }> {
  const problems: Array<{ path: string[]; message: string }> = [];
  const fixed = value.from !== undefined || value.to !== undefined;
  const recurring = value.cron !== undefined || value.duration !== undefined || value.timezone !== undefined;
  if (fixed && recurring) {
    return [{ path: [], message: 'set either from and to, or cron, duration and timezone — not both' }];
  }
  if (!fixed && !recurring) {
    return [{ path: [], message: 'set from and to (a fixed window), or cron, duration and timezone' }];
  }
  if (fixed) {
    for (const key of ['from', 'to'] as const) {
      const given = value[key];
      if (given === undefined) problems.push({ path: [key], message: 'required for a fixed window' });
      else if (!DATE_TIME_WITH_OFFSET.test(given) || Number.isNaN(Date.parse(given))) {
        problems.push({
          path: [key],
          message: `expected an ISO 8601 date-time with an offset like 2026-12-24T18:00:00+09:00, got "${given}"`,
        });
      }
    }
    if (problems.length === 0 && Date.parse(value.to as string) <= Date.parse(value.from as string)) {
      problems.push({ path: ['to'], message: `must be after from (${value.from})` });
    }
    return problems;
  }
  for (const key of ['cron', 'duration', 'timezone'] as const) {
    if (value[key] === undefined) problems.push({ path: [key], message: 'required for a recurring window' });
  }
  const zoneKnown = value.timezone !== undefined && isTimeZone(value.timezone);
  if (value.timezone !== undefined && !zoneKnown) {
    problems.push({
      path: ['timezone'],
      message: `expected an IANA time zone like Asia/Tokyo or Europe/Berlin, got "${value.timezone}"`,
    });
  }
  if (value.duration !== undefined && !((parseDuration(value.duration) ?? 0) > 0)) {
    problems.push({
      path: ['duration'],
      message: `expected a duration like 90m, 12h or 2d12h, got "${value.duration}"`,
    });
  }
  // Whether croner can use the pattern is freeze-cron.ts's check (kept out of the handlers' bundles).
  return problems;
}

/** One `stages[].freeze` entry, checked and turned into its kind. */
export const freezeWindowSchema = z.pipe(
  entry.check(
    z.superRefine((value, ctx) => {
      for (const problem of entryProblems(value)) {
        ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message, input: value });
      }
    }),
  ),
  z.transform((value): FreezeWindowConfig => {
    const reason = value.reason.trim();
    if (value.from !== undefined && value.to !== undefined) {
      return { kind: 'fixed', from: value.from, to: value.to, reason };
    }
    return {
      kind: 'recurring',
      cron: value.cron as string,
      duration: parseDuration(value.duration as string) as number,
      timezone: value.timezone as string,
      reason,
    };
  }),
);

/** A config's windows by stage name; undefined for a stage the config does not have. */
export function freezeWindowsOf(config: {
  readonly stages: ReadonlyArray<{ readonly name: string; readonly freeze: readonly FreezeWindowConfig[] }>;
}): (stage: string) => readonly FreezeWindowConfig[] | undefined {
  return (stage) => config.stages.find((entry) => entry.name === stage)?.freeze;
}

/** A validated window back in the file's form (SHIPLANE_CONFIG is validated again on the other side). */
export function freezeWindowInput(window: FreezeWindowConfig): z.input<typeof freezeWindowSchema> {
  return window.kind === 'fixed'
    ? { from: window.from, to: window.to, reason: window.reason }
    : {
        cron: window.cron,
        duration: `${window.duration}s`,
        timezone: window.timezone,
        reason: window.reason,
      };
}
