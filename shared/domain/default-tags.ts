/**
 * The tags an app releases when its config sets no `apps.<name>.tags`: version tags only. A registry
 * also receives moving tags (`latest`), cosign's signature, attestation and SBOM tags
 * (`sha256-<hex>.sig`, `.att`, `.sbom`) and build caches (`buildcache`, `main-cache`); none of them
 * is a release, and promoting one would put an unreviewed or non-runnable image in a stage.
 *
 * A version tag: an optional `v`, two to four dot-separated numbers, and an optional pre-release
 * suffix after `-` (`v1.4`, `1.4.2`, `v2.1.7-rc.1`, `2025.11.16`). Single numbers (`v1`, `42`) are
 * left out: they are usually moving major-version tags. The patterns have no nested quantifiers, so
 * JavaScript's RegExp matches them in linear time on ECR's 128-character tags.
 */

/** What the default matches, as the README and the ignore messages say it. */
export const DEFAULT_TAGS_DESCRIPTION =
  'version tags (v1.4, 1.4.2, v2.1.7-rc.1), never latest, signature/attestation/SBOM tags (.sig, .att, .sbom) or build-cache tags';

const VERSION = /^v?\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?$/;
/** cosign writes `sha256-<hex>.sig`, `.att` and `.sbom` next to the image it signs. */
const SIGNATURE = /\.(?:sig|att|sbom)$/i;
/** `cache`, `buildcache`, `build-cache`, `main-cache`, `v1.2-cache`, `cache-deps`… as a word of the tag. */
const BUILD_CACHE = /(?:^|[-_.])(?:build[-_.]?)?cache(?:$|[-_.])/i;

/** Why the default filter refuses `tag`, or undefined when it is a release. */
export function defaultTagRefusal(tag: string): string | undefined {
  if (tag.toLowerCase() === 'latest') return 'latest is a moving tag, never a release';
  if (SIGNATURE.test(tag)) return 'it is a signature, attestation or SBOM tag';
  if (BUILD_CACHE.test(tag)) return 'it is a build-cache tag';
  if (!VERSION.test(tag)) return 'it does not look like a version (like v1.4.2 or 1.4.2-rc.1)';
  return undefined;
}
