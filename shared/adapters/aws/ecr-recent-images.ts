/**
 * Recent pushes to an ECR repository: DescribeImages over every page (ECR neither sorts nor filters
 * by push time, so the time filter is applied here), tagged images only.
 */
import { type ECRClient, paginateDescribeImages } from '@aws-sdk/client-ecr';
import type { RecentImages } from '../../ports/recent-images.js';

/** DescribeImages' largest page. */
const PAGE_SIZE = 1000;

/**
 * Lists the tagged images of a repository of the default registry (the caller's account, or
 * `registryId`) pushed at or after `since`. An image without a digest or push time is skipped: ECR
 * always sends both for a pushed image.
 */
export function ecrRecentImages(
  client: ECRClient,
  options: { readonly registryId?: string } = {},
): RecentImages {
  return async (repository, since) => {
    const region = await client.config.region();
    const pages = paginateDescribeImages(
      { client, pageSize: PAGE_SIZE },
      {
        repositoryName: repository,
        ...(options.registryId ? { registryId: options.registryId } : {}),
        filter: { tagStatus: 'TAGGED' },
      },
    );
    const images = [];
    for await (const page of pages) {
      for (const detail of page.imageDetails ?? []) {
        const { imageDigest, imagePushedAt, registryId, imageTags } = detail;
        if (!imageDigest || !imagePushedAt || !registryId || !imageTags?.length) continue;
        if (imagePushedAt < since) continue;
        images.push({
          registryId,
          region,
          repository: detail.repositoryName ?? repository,
          digest: imageDigest,
          tags: imageTags,
          pushedAt: imagePushedAt,
        });
      }
    }
    return images;
  };
}
