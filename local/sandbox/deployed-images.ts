/** What an environment's overlay deploys at a revision of the sandbox's GitOps repository. */
import { parse } from 'yaml';
import { git } from './gitops-repo.js';

/** The images an environment's overlay pins at a revision, `itdo-erp/backend:v2.1.6` each. */
export async function imagesAt(repoDir: string, revision: string, path: string): Promise<string[]> {
  let text: string;
  try {
    text = await git(repoDir, ['show', `${revision}:${path}/kustomization.yaml`]);
  } catch {
    return [];
  }
  const images =
    (parse(text) as { images?: Array<{ name?: unknown; newTag?: unknown }> } | null)?.images ?? [];
  return images
    .filter((image) => typeof image.name === 'string' && image.newTag !== undefined)
    .map((image) => `${String(image.name)}:${String(image.newTag)}`);
}

/**
 * What the Argo CD stand-in deploys at a revision: every image of the overlay in one "tag", so a
 * change to any of them is a change to sync, and a `-bad` tag anywhere rolls out Degraded.
 */
export const DEGRADED = /-bad(,|$)/;

export async function deployedAt(
  repoDir: string,
  revision: string,
  path: string,
): Promise<string | undefined> {
  const images = await imagesAt(repoDir, revision, path);
  return images.length > 0 ? images.join(',') : undefined;
}
