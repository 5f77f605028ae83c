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
