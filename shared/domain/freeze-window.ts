/**
 * Change freezes, as pure rules: whether a stage is frozen at an instant, until when (chaining
 * adjacent and overlapping windows until the freeze really ends), and how the end reads to people
 * (`Mon 06:00 JST`, in the window's own zone).
 *
 * A window covers [start, start + duration): a run at its end instant may go on. A recurring
 * window's starts are its cron pattern's runs in its zone (croner keeps DST right: a 02:30 start
 * skipped by a spring-forward runs at 03:00, a repeated 01:30 starts once).
 */
import type { FreezeWindowConfig } from '../config/freeze.js';
import { freezeCron } from '../config/freeze-cron.js';

export type { FreezeWindowConfig };

/** One occurrence of a window. */
export interface FreezeOccurrence {
  readonly start: Date;
  readonly end: Date;
  readonly reason: string;
  /** IANA zone, or a fixed offset like `+09:00` for a fixed window (the offset its `to` was written in). */
  readonly timeZone: string;
}

export type FreezeState =
  | { readonly status: 'open' }
  | {
      readonly status: 'frozen';
      /**
       * When the stage opens again: no window covers this instant — unless `endless`, when the
       * windows leave no gap within FREEZE_HORIZON_MS and this is only when to look again.
       */
      readonly until: Date;
      /** The windows chain past the horizon without a gap: still frozen at `until`. */
      readonly endless?: true;
      /** The reasons of the windows in the chain, in order, each once. */
      readonly reasons: readonly string[];
      /** The zone of the window that ends the freeze: the end is shown in it. */
      readonly timeZone: string;
    };

/** How far a chain is followed; a pattern that never leaves a gap ends the freeze here (and is re-checked then). */
export const FREEZE_HORIZON_MS = 366 * 24 * 3600 * 1000;
const MAX_CHAIN = 10_000;

/** The offset a date-time was written in (`Z` → `+00:00`). */
function offsetOf(text: string): string {
  const match = /([+-]\d{2}:\d{2})$/.exec(text);
  return match?.[1] ?? '+00:00';
}

/** The occurrence of `window` that covers `at`, if one does (the earliest-started, when several do). */
export function occurrenceAt(window: FreezeWindowConfig, at: Date): FreezeOccurrence | undefined {
  const t = at.getTime();
  if (window.kind === 'fixed') {
    const start = Date.parse(window.from);
    const end = Date.parse(window.to);
    return start <= t && t < end
      ? { start: new Date(start), end: new Date(end), reason: window.reason, timeZone: offsetOf(window.to) }
      : undefined;
  }
  const durationMs = window.duration * 1000;
  // The first start after at - duration is the earliest whose window has not ended by `at`.
  const start = freezeCron(window.cron, window.timezone).nextRun(new Date(t - durationMs));
  if (!start || start.getTime() > t) return undefined;
  return {
    start,
    end: new Date(start.getTime() + durationMs),
    reason: window.reason,
    timeZone: window.timezone,
  };
}

/** Whether the stage is frozen at `at`, and until when. */
export function freezeStateAt(windows: readonly FreezeWindowConfig[], at: Date): FreezeState {
  let cursor = at.getTime();
  const reasons: string[] = [];
  let timeZone = 'UTC';
  let gap = false;
  for (let step = 0; step < MAX_CHAIN && cursor - at.getTime() < FREEZE_HORIZON_MS; step++) {
    const covering = windows
      .map((window) => occurrenceAt(window, new Date(cursor)))
      .filter((occurrence): occurrence is FreezeOccurrence => occurrence !== undefined);
    if (covering.length === 0) {
      gap = true;
      break;
    }
    // The one lasting longest decides where the chain goes next.
    const last = covering.reduce((a, b) => (b.end.getTime() > a.end.getTime() ? b : a));
    for (const occurrence of covering) {
      if (!reasons.includes(occurrence.reason)) reasons.push(occurrence.reason);
    }
    cursor = last.end.getTime();
    timeZone = last.timeZone;
  }
  return reasons.length === 0
    ? { status: 'open' }
    : {
        status: 'frozen',
        until: new Date(cursor),
        reasons,
        timeZone,
        ...(gap ? {} : { endless: true as const }),
      };
}

/** The next occurrence starting after `after` (for summaries), or undefined when none will. */
export function nextFreezeStart(
  windows: readonly FreezeWindowConfig[],
  after: Date,
): FreezeOccurrence | undefined {
  let best: FreezeOccurrence | undefined;
  for (const window of windows) {
    let candidate: FreezeOccurrence | undefined;
    if (window.kind === 'fixed') {
      const start = Date.parse(window.from);
      if (start > after.getTime()) {
        candidate = {
          start: new Date(start),
          end: new Date(Date.parse(window.to)),
          reason: window.reason,
          timeZone: offsetOf(window.to),
        };
      }
    } else {
      const start = freezeCron(window.cron, window.timezone).nextRun(after);
      if (start) {
        candidate = {
          start,
          end: new Date(start.getTime() + window.duration * 1000),
          reason: window.reason,
          timeZone: window.timezone,
        };
      }
    }
    if (candidate && (!best || candidate.start < best.start)) best = candidate;
  }
  return best;
}

/** A zone's short name where some English or Japanese locale has one (`JST`, `CET`, `EDT`), else `GMT+9`. */
function zoneAbbreviation(at: Date, timeZone: string): string {
  let fallback = '';
  for (const locale of ['en-US', 'en-GB', 'en-AU', 'en-IN', 'ja-JP']) {
    const name = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' })
      .formatToParts(at)
      .find((part) => part.type === 'timeZoneName')?.value;
    if (!name) continue;
    if (/^[A-Z]{2,5}$/.test(name)) return name;
    fallback ||= name;
  }
  return fallback || timeZone;
}

/**
 * The end of a freeze as people read it, in its zone: `Mon 06:00 JST`; with the date when it is a
 * week or more after `now` (`Mon 4 Jan 06:00 JST`).
 */
export function formatFreezeEnd(until: Date, timeZone: string, now: Date): string {
  const withDate = until.getTime() - now.getTime() >= 6 * 24 * 3600 * 1000;
  const offset = /^([+-])(\d{2}):(\d{2})$/.exec(timeZone);
  // A fixed offset: shift the instant and read it as UTC (Intl takes IANA names only on Node 20).
  const shown = offset
    ? new Date(
        until.getTime() +
          (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000,
      )
    : until;
  const zone = offset ? 'UTC' : timeZone;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(shown);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const label = offset
    ? timeZone === '+00:00'
      ? 'UTC'
      : `UTC${timeZone}`
    : zoneAbbreviation(until, timeZone);
  const date = withDate ? ` ${part('day')} ${part('month')}` : '';
  return `${part('weekday')}${date} ${part('hour')}:${part('minute')} ${label}`;
}

/** The thread's line for a frozen stage: `production frozen until Mon 06:00 JST: release freeze`. */
export function freezeNotice(
  stage: string,
  state: {
    readonly until: Date;
    readonly reasons: readonly string[];
    readonly timeZone: string;
    readonly endless?: true;
  },
  now: Date,
): string {
  // Windows without a gap never end: say the end is only when it is looked at again.
  const until = `${state.endless ? 'at least ' : ''}${formatFreezeEnd(state.until, state.timeZone, now)}`;
  return `${stage} frozen until ${until}: ${state.reasons.join('; ')}`;
}
