/**
 * The name of a promotion execution: `<app>-<tag>-<first 12 hex of the digest>`. It is deterministic, so
 * a repeated ECR event for the same push — or the sweep finding a push the intake already started —
 * finds the execution it already started instead of starting a second one (Step Functions keeps names
 * unique per state machine for 90 days).
 *
 * It is also unambiguous: two different releases (app, tag, digest — known by its first 12 hex, 48 bits,
 * as `docker images` shows it) never share a name. The plain form
 * is used only when it can be read back one way: the app holds no `-` (so the first `-` ends it), app
 * and tag hold only characters Step Functions and CloudWatch accept, and the name fits 80 characters.
 * Otherwise — `("my", "app-v1")` and `("my-app", "v1")` would both read `my-app-v1-…` — the name is
 * `<app>-<tag, cleaned and cut to fit>-<12 hex of the digest>_<10 hex of a hash of the full identity>`.
 * A plain name has `-` before its last 12 characters and a hashed one `_` before its last 10, where a
 * plain name has digest hex, so the two forms never meet.
 */
import { createHash } from 'node:crypto';

/** Step Functions accepts 1–80 characters. */
export const EXECUTION_NAME_MAX = 80;
const DIGEST_HEX = 12;
/** The identity hash of a hashed name (40 bits). */
const IDENTITY_HEX = 10;
/** A hashed name's tail: `-<digest hex>_<identity hash>`. */
const HASHED_TAIL = 1 + DIGEST_HEX + 1 + IDENTITY_HEX;
/** The short hash rollback names add (their own scheme, below). */
const HASH_HEX = 8;

/**
 * Step Functions refuses whitespace, `<>{}[]`, `?*`, `"#%\^|~\`$&,;:/` and control characters, and
 * CloudWatch Logs only shows ASCII names well. Keeping to this set satisfies both with room to spare.
 */
const UNSAFE = /[^A-Za-z0-9._-]/g;
const DIGEST = /^(?:sha256:)?([0-9a-f]{12,})$/;
/** An app part the plain form can end at its first `-`. Config app names without `-` qualify. */
const PLAIN_APP = /^[A-Za-z0-9._]+$/;
const PLAIN_TAG = /^[A-Za-z0-9._-]*$/;

/** A name Step Functions would accept for StartExecution, and that reads well in the console. */
export function isValidExecutionName(name: string): boolean {
  return name.length >= 1 && name.length <= EXECUTION_NAME_MAX && !/[^A-Za-z0-9._-]/.test(name);
}

/** A short hash of the whole release, its parts kept apart (JSON), so no two releases share it. */
function identityHash(app: string, tag: string, hex: string): string {
  return createHash('sha256')
    .update(JSON.stringify([app, tag, `sha256:${hex}`]))
    .digest('hex')
    .slice(0, IDENTITY_HEX);
}

/**
 * Builds the execution name of a release (see the header): the plain `<app>-<tag>-<12 hex>` when it
 * reads back one way and fits, else the readable part cleaned and cut, the digest part whole, and a
 * short hash of the full identity.
 */
export function executionName(app: string, tag: string, digest: string): string {
  const hex = DIGEST.exec(digest)?.[1];
  if (!hex) throw new TypeError(`expected an image digest like sha256:<hex>, got "${digest}"`);
  const digestPart = hex.slice(0, DIGEST_HEX);
  const plain = `${app}-${tag}-${digestPart}`;
  if (PLAIN_APP.test(app) && PLAIN_TAG.test(tag) && plain.length <= EXECUTION_NAME_MAX) return plain;
  const readable = `${app}-${tag}`.replace(UNSAFE, '_').slice(0, EXECUTION_NAME_MAX - HASHED_TAIL);
  return `${readable}-${digestPart}_${identityHash(app, tag, hex)}`;
}

/** A retry's name ends `-r<N>`; a release's own name ends in digest hex, which has no `r`. */
const RETRY_SUFFIX = /-r([1-9]\d*)$/;
/**
 * What a shortened base keeps of its end: a plain name's `-<12 hex>` with room to spare, a hashed name's
 * `-<12 hex>_<hash>` whole, so retries of different releases stay apart.
 */
const KEPT_TAIL = HASHED_TAIL;

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
 * tag) and its digest part (and identity hash); the suffix is never cut, so the attempt number always reads.
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
