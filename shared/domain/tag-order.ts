/**
 * The order of release tags: `v2.1.7` comes after `v2.1.6`, and `v2.1.7-rc.1` before `v2.1.7`
 * (Semantic Versioning 2.0 precedence, with an optional `v`). Tags that are not versions have no
 * order: nothing can be said about `latest` against `v2.1.6`. Pure.
 */

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

interface Version {
  readonly core: readonly [number, number, number];
  readonly prerelease: readonly string[];
}

function parseVersion(tag: string): Version | undefined {
  const match = VERSION.exec(tag);
  if (!match) return undefined;
  return {
    core: [Number(match[1]), Number(match[2]), Number(match[3])],
    prerelease: match[4] ? match[4].split('.') : [],
  };
}

const NUMERIC = /^\d+$/;

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  if (aNumeric && bNumeric) return Math.sign(Number(a) - Number(b));
  // Numeric identifiers sort before alphanumeric ones.
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Negative when `a` is an older release than `b`, positive when newer, 0 when they are the same
 * version; undefined when either tag is not a version.
 */
export function compareReleaseTags(a: string, b: string): number | undefined {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (!left || !right) return undefined;
  for (let i = 0; i < 3; i++) {
    const difference = Math.sign(left.core[i]! - right.core[i]!);
    if (difference !== 0) return difference;
  }
  // A pre-release comes before its release.
  if (left.prerelease.length === 0 || right.prerelease.length === 0) {
    return Math.sign(right.prerelease.length - left.prerelease.length);
  }
  const length = Math.min(left.prerelease.length, right.prerelease.length);
  for (let i = 0; i < length; i++) {
    const difference = compareIdentifiers(left.prerelease[i]!, right.prerelease[i]!);
    if (difference !== 0) return difference;
  }
  return Math.sign(left.prerelease.length - right.prerelease.length);
}
