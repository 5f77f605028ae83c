/**
 * The `ECR Image Scan` event ECR sends to EventBridge when a basic scan ends, in AWS's shape (the ECR
 * user guide's sample): the stand-in emits it for each scan on push once the scan completes, so the
 * sandbox's runs waiting at the scan gate are woken the way AWS wakes them.
 */
import { randomUUID } from 'node:crypto';
import { severityCounts } from './findings.js';
import type { StoredImage } from './registry.js';

export function ecrImageScanEvent(
  image: Pick<StoredImage, 'repository' | 'digest' | 'tags'>,
  options: { accountId: string; region: string; at: Date },
): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'ECR Image Scan',
    source: 'aws.ecr',
    account: options.accountId,
    time: options.at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.region,
    resources: [`arn:aws:ecr:${options.region}:${options.accountId}:repository/${image.repository}`],
    detail: {
      'scan-status': 'COMPLETE',
      'repository-name': image.repository,
      'finding-severity-counts': severityCounts(image.tags),
      'image-digest': image.digest,
      'image-tags': [...image.tags],
    },
  };
}
