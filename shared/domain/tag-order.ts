/**
 * The order of release tags by their version: `v2.1.7` comes after `v2.1.6` (an optional `v`, then
 * major.minor.patch compared as numbers). Suffixes are not ordered: teams use them for pre-releases
 * (`-rc.1`) and for builds after a release (`-hotfix1`, `-bad`) alike, so `v2.1.7-rc.1` and `v2.1.7`
 * are the same version here. Tags that are not versions (`latest`) have no order. Pure.
 */

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?$/;

function versionOf(tag: string): [number, number, number] | undefined {
  const match = VERSION.exec(tag);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/**
 * Negative when `a` is an older version than `b`, positive when newer, 0 when they are the same
 * version; undefined when either tag is not a version.
 */
export function compareReleaseTags(a: string, b: string): number | undefined {
  const left = versionOf(a);
  const right = versionOf(b);
  if (!left || !right) return undefined;
  for (let i = 0; i < 3; i++) {
    const difference = Math.sign(left[i]! - right[i]!);
    if (difference !== 0) return difference;
  }
  return 0;
}
