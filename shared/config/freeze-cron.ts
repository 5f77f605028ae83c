/**
 * The cron side of `stages[].freeze` (recurring windows), apart from the schema so that croner is
 * bundled only where windows are computed (notify's freeze check, the approval's break-glass rule)
 * and where the config is checked in full: `shiplane validate`, synth and local runs (load.ts).
 * The handlers that merely read the config validate its shape (freeze.ts) without it: the config
 * they get was checked in full at synth.
 */
import { Cron } from 'croner';
import type { ConfigProblem } from '../errors.js';
import { isTimeZone } from './freeze.js';
import { isObject } from './schema.js';
import { formatPath } from './shape.js';

/** croner, as every freeze computation uses it: five fields, paused (it never schedules anything). */
export function freezeCron(pattern: string, timezone: string): Cron {
  return new Cron(pattern, { timezone, paused: true, mode: '5-part' });
}

/** Why the pattern is not a usable cron pattern, or undefined when it is. */
export function cronProblem(pattern: string, timezone: string): string | undefined {
  try {
    const cron = freezeCron(pattern, timezone);
    if (!cron.nextRun()) return `cron "${pattern}" never starts a window`;
    return undefined;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return `expected a cron pattern with five fields (minute hour day month weekday), got "${pattern}": ${detail}`;
  }
}

/**
 * A problem for each `stages[].freeze[].cron` croner cannot use. Reads the raw input, so it reports
 * alongside the schema's problems; a cron that is not a string, or a missing one, is the schema's
 * to report. An unknown zone is the schema's too: the pattern is then checked in UTC.
 */
export function freezeCronProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !Array.isArray(raw.stages)) return [];
  return raw.stages.flatMap((stage: unknown, index): ConfigProblem[] => {
    if (!isObject(stage) || !Array.isArray(stage.freeze)) return [];
    return stage.freeze.flatMap((window: unknown, entry): ConfigProblem[] => {
      if (!isObject(window) || typeof window.cron !== 'string') return [];
      const zone =
        typeof window.timezone === 'string' && isTimeZone(window.timezone) ? window.timezone : 'UTC';
      const problem = cronProblem(window.cron, zone);
      return problem
        ? [{ path: formatPath(['stages', index, 'freeze', entry, 'cron']), message: problem }]
        : [];
    });
  });
}
