/**
 * What an image's OCI labels say about its build: `org.opencontainers.image.created` (when it was
 * built, RFC 3339) and `org.opencontainers.image.revision` (the source revision it was built from).
 * Lead time counts from the build when the created time is usable, and from the push otherwise.
 */
import type { ImageBuild } from './run-record.js';
import { clip } from './text.js';

export const OCI_CREATED_LABEL = 'org.opencontainers.image.created';
export const OCI_REVISION_LABEL = 'org.opencontainers.image.revision';

/** RFC 3339 date-time, as the OCI annotation spec asks for `created`. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Reproducible builds (ko, Bazel rules_oci, Nix, SOURCE_DATE_EPOCH=0) stamp the Unix epoch or a
 * similar placeholder; a lead time from it would be decades. Anything before this is not a build time.
 */
const EARLIEST_BUILD = Date.parse('2000-01-01T00:00:00Z');

export interface ImageBuildReading {
  /** What the labels gave; absent when neither label is usable. */
  readonly build?: ImageBuild;
  /** Why a label present on the image was not used, in words (for the log). */
  readonly problems: readonly string[];
}

export function imageBuildOf(labels: Readonly<Record<string, string>>): ImageBuildReading {
  const problems: string[] = [];
  let createdAt: string | undefined;
  const created = labels[OCI_CREATED_LABEL]?.trim();
  if (created !== undefined) {
    const at = RFC3339.test(created) ? Date.parse(created.toUpperCase()) : Number.NaN;
    if (Number.isNaN(at)) {
      problems.push(`${OCI_CREATED_LABEL} is not an RFC 3339 time: ${JSON.stringify(clip(created, 80))}`);
    } else if (at < EARLIEST_BUILD) {
      problems.push(`${OCI_CREATED_LABEL} is ${created}, a reproducible-build placeholder, not a build time`);
    } else {
      createdAt = new Date(at).toISOString();
    }
  }
  const revision = labels[OCI_REVISION_LABEL]?.trim();
  const build: ImageBuild = {
    ...(createdAt ? { createdAt } : {}),
    ...(revision ? { revision: clip(revision, 200) } : {}),
  };
  return Object.keys(build).length > 0 ? { build, problems } : { problems };
}
