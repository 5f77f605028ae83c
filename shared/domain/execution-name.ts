/**
 * The name of a promotion execution: `<app>-<tag>-<first 12 hex of the digest>`. It is deterministic, so
 * a repeated ECR event for the same push finds the execution it already started instead of starting a
 * second one (Step Functions keeps names unique per state machine for 90 days).
 */
import { createHash } from 'node:crypto';

/** Step Functions accepts 1–80 characters. */
export const EXECUTION_NAME_MAX = 80;
const DIGEST_HEX = 12;
/** Room for `<app>-<tag>`: everything but `-` and the digest part. */
const HEAD_MAX = EXECUTION_NAME_MAX - 1 - DIGEST_HEX;
const HASH_HEX = 8;

/**
 * Step Functions refuses whitespace, `<>{}[]`, `?*`, `"#%\^|~\`$&,;:/` and control characters, and
 * CloudWatch Logs only shows ASCII names well. Keeping to this set satisfies both with room to spare.
 */
const UNSAFE = /[^A-Za-z0-9._-]/g;
const DIGEST = /^(?:sha256:)?([0-9a-f]{12,})$/;

/** A name Step Functions would accept for StartExecution, and that reads well in the console. */
export function isValidExecutionName(name: string): boolean {
  return name.length >= 1 && name.length <= EXECUTION_NAME_MAX && !/[^A-Za-z0-9._-]/.test(name);
}

/**
 * Builds the execution name of a release. When the app or tag holds characters Step Functions refuses,
 * or they are too long to fit, the readable part is cleaned or shortened and a short hash of the original
 * `<app>-<tag>` is added, so two different releases never share a name. The digest part is never cut.
 */
export function executionName(app: string, tag: string, digest: string): string {
  const hex = DIGEST.exec(digest)?.[1];
  if (!hex) throw new TypeError(`expected an image digest like sha256:<hex>, got "${digest}"`);
  const head = `${app}-${tag}`;
  const clean = head.replace(UNSAFE, '_');
  const readable =
    clean === head && clean.length <= HEAD_MAX
      ? clean
      : `${clean.slice(0, HEAD_MAX - 1 - HASH_HEX)}_${createHash('sha256').update(head).digest('hex').slice(0, HASH_HEX)}`;
  return `${readable}-${hex.slice(0, DIGEST_HEX)}`;
}

/** A retry's name ends `-r<N>`; a release's own name ends in digest hex, which has no `r`. */
const RETRY_SUFFIX = /-r([1-9]\d*)$/;
/** The digest part (`-` and 12 hex) a shortened base keeps, so retries of different releases stay apart. */
const KEPT_TAIL = 1 + DIGEST_HEX;

/** The name a run's retries share: the name without its `-rN`. */
export function retryBaseName(name: string): string {
  return name.replace(RETRY_SUFFIX, '');
}

/** Which attempt a run is: 1 for a release's first run, N for `<name>-rN`. */
export function retryAttemptOf(name: string): number {
  const match = RETRY_SUFFIX.exec(name);
  return match ? Number(match[1]) : 1;
}

/**
 * The name of attempt `attempt` (2 or more) of the run `name` (itself a retry or not): `<base>-r<attempt>`.
 * When that would pass 80 characters the base is shortened from the middle, keeping its start (app and
 * tag) and its digest part; the suffix is never cut, so the attempt number always reads.
 */
export function retryExecutionName(name: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 2) {
    throw new RangeError(`a retry is attempt 2 or later, got ${attempt}`);
  }
  const suffix = `-r${attempt}`;
  const base = retryBaseName(name);
  const room = EXECUTION_NAME_MAX - suffix.length;
  const fitted = base.length <= room ? base : `${base.slice(0, room - KEPT_TAIL)}${base.slice(-KEPT_TAIL)}`;
  return `${fitted}${suffix}`;
}

/** The room a rollback name keeps for `-<attempt>` (two digits at most: see MAX_ROLLBACK_ATTEMPT). */
const ROLLBACK_SUFFIX_MAX = 3;

/**
 * The name of a manual rollback run (`shiplane rollback`): `<app>-<stage>-rollback-<tag>-<attempt>`.
 * Deterministic, so the same rollback asked twice finds the run it already started; `attempt`
 * counts rollbacks of the app's stage to that tag (1, 2, …). Like a release's name, an app, stage
 * or tag with characters Step Functions refuses, or too long to fit, is cleaned or shortened and a
 * short hash of the original added; the attempt is never cut.
 */
export function rollbackExecutionName(app: string, stage: string, tag: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1 || String(attempt).length > ROLLBACK_SUFFIX_MAX - 1) {
    throw new RangeError(`a rollback attempt is a whole number from 1 to 99, got ${attempt}`);
  }
  const head = `${app}-${stage}-rollback-${tag}`;
  const clean = head.replace(UNSAFE, '_');
  const room = EXECUTION_NAME_MAX - ROLLBACK_SUFFIX_MAX;
  const readable =
    clean === head && clean.length <= room
      ? clean
      : `${clean.slice(0, room - 1 - HASH_HEX)}_${createHash('sha256').update(head).digest('hex').slice(0, HASH_HEX)}`;
  return `${readable}-${attempt}`;
}
