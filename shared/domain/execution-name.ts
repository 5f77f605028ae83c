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

/**
 * What every run name of `app` begins with — its releases', rollbacks' and their retries' — to narrow
 * a listing by name before the app is checked in each run's input: `<app>-`, cleaned, and cut to what
 * the shortest readable part of a name keeps. Runs of other apps may begin so too (`my-app`'s with
 * `my-`), so it narrows, never decides.
 */
export function appNamePrefix(app: string): string {
  return `${app.replace(UNSAFE, '_')}-`.slice(0, EXECUTION_NAME_MAX - HASHED_TAIL);
}

/** A retry's name ends `-r<N>`; a release's own name ends in digest hex, which has no `r`. */
const RETRY_SUFFIX = /-r([1-9]\d*)$/;
/** The hash a shortened retry name carries of the whole name it retries (40 bits). */
const RETRY_HASH_HEX = 10;

/** The name a run's retries share: the name without its `-rN`. */
export function retryBaseName(name: string): string {
  return name.replace(RETRY_SUFFIX, '');
}

/** Which attempt a run is: 1 for a release's first run, N for `<name>-rN`. */
export function retryAttemptOf(name: string): number {
  const match = RETRY_SUFFIX.exec(name);
  return match ? Number(match[1]) : 1;
}

/** A short hash of a text (hex). */
function hashOf(text: string, hex: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hex);
}

/**
 * The name of attempt `attempt` (2 or more) of the run `name` (itself a retry or not): `<base>-r<attempt>`.
 * When that would pass 80 characters the name is `<start of base>.<10 hex of a hash of the whole base>-r<attempt>`:
 * cutting the base alone would lose what tells two long names apart. No release or rollback name ends
 * in `.` and 10 hex (a release ends in hex after `-` or `_`, a rollback in its attempt), so a shortened
 * retry never takes the name of one that was not shortened. The suffix is never cut.
 */
export function retryExecutionName(name: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 2) {
    throw new RangeError(`a retry is attempt 2 or later, got ${attempt}`);
  }
  const suffix = `-r${attempt}`;
  const base = retryBaseName(name);
  const room = EXECUTION_NAME_MAX - suffix.length;
  if (base.length <= room) return `${base}${suffix}`;
  return `${base.slice(0, room - 1 - RETRY_HASH_HEX)}.${hashOf(base, RETRY_HASH_HEX)}${suffix}`;
}

/** The room a rollback name keeps for `-<attempt>` (two digits at most: see MAX_ROLLBACK_ATTEMPT). */
const ROLLBACK_SUFFIX_MAX = 3;
/** The hash a hashed rollback name carries of its identity (40 bits). */
const ROLLBACK_HASH_HEX = 10;

/**
 * The name of a manual rollback run (`shiplane rollback`): `<app>-<stage>-rollback-<tag>-<attempt>`.
 * Deterministic, so the same rollback asked twice finds the run it already started; `attempt`
 * counts rollbacks of the app's stage to that tag (1, 2, …).
 *
 * Like a release's name, the plain form is used only when it reads back one way: app and stage hold
 * no `-` (so the first two `-` end them), all three hold only characters Step Functions accepts, and
 * it fits. Otherwise — `(my, app-prod)` and `(my-app, prod)` would both read `my-app-prod-rollback-…`
 * — the name is `<the plain head, cleaned and cut to fit>_<10 hex of a hash of app, stage and tag>_<attempt>`.
 * A plain name ends `-<attempt>` and a hashed one `_<attempt>`, so the two forms never meet.
 */
export function rollbackExecutionName(app: string, stage: string, tag: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1 || String(attempt).length > ROLLBACK_SUFFIX_MAX - 1) {
    throw new RangeError(`a rollback attempt is a whole number from 1 to 99, got ${attempt}`);
  }
  const head = `${app}-${stage}-rollback-${tag}`;
  const room = EXECUTION_NAME_MAX - ROLLBACK_SUFFIX_MAX;
  if (PLAIN_APP.test(app) && PLAIN_APP.test(stage) && PLAIN_TAG.test(tag) && head.length <= room) {
    return `${head}-${attempt}`;
  }
  const readable = head.replace(UNSAFE, '_').slice(0, room - 1 - ROLLBACK_HASH_HEX);
  return `${readable}_${hashOf(JSON.stringify([app, stage, tag]), ROLLBACK_HASH_HEX)}_${attempt}`;
}
