/**
 * The freeze check task: before a stage with `freeze` windows, the run asks whether the stage is
 * frozen now (the freeze-check function answers). Frozen, it says so in the release thread (notify,
 * with this answer as its detail), waits until `until` (a Wait state's TimestampPath) and asks again.
 */
import { releaseSchema } from './tasks.js';
import * as z from './zod.js';

const nonEmpty = z.string().check(z.minLength(1));
const isoTime = z.iso.datetime({ offset: true });

/** Input of `<Stage> · Check freeze`. */
export const freezeCheckSchema = z.strictObject({
  check: z.literal('freeze'),
  execution: nonEmpty,
  release: releaseSchema,
  stage: nonEmpty,
});
export type FreezeCheck = z.infer<typeof freezeCheckSchema>;

/** Its result, at `$.stages.<stage>.freeze`. */
export const freezeStatusSchema = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('open'), checkedAt: isoTime }),
  z.strictObject({
    status: z.literal('frozen'),
    /** When the stage opens again (UTC, what the Wait state reads). */
    until: isoTime,
    /** The windows' reasons, `; `-joined. */
    reason: nonEmpty,
    /** The zone the end is shown in: IANA name, or the offset of a fixed window. */
    timeZone: nonEmpty,
    /** `production frozen until Mon 06:00 JST: release freeze`. */
    notice: nonEmpty,
    checkedAt: isoTime,
  }),
]);
export type FreezeStatus = z.infer<typeof freezeStatusSchema>;
