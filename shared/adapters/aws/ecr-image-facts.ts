/**
 * What ECR knows about the released image: push time, size and the scan's finding counts. It is
 * context for a person deciding, never a gate: an image ECR cannot describe, a scan that has not
 * completed, or an error leaves the part out and the approval goes on.
 *
 * Only DescribeImages: its image detail carries the last scan's summary (basic and enhanced). Reading
 * the findings themselves (DescribeImageScanFindings) is the scan gate's alone, so no other function
 * holds that permission.
 */
import { DescribeImagesCommand, type ECRClient, type ImageDetail } from '@aws-sdk/client-ecr';
import type { ImageFacts } from '../../domain/approval.js';
import type { ImageFactsSource } from '../../ports/image-facts.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
// Which scan states have meaningful findings is the scan gate's reading of ECR too: one place.
import { SCAN_FINISHED, severityCountsOf } from './ecr-scan-findings.js';

export function ecrImageFacts(client: ECRClient, reporter: Reporter): ImageFactsSource {
  return async (release) => {
    let detail: ImageDetail | undefined;
    try {
      const described = await client.send(
        new DescribeImagesCommand({
          registryId: release.registryId,
          repositoryName: release.ecrRepository,
          imageIds: [{ imageDigest: release.digest }],
        }),
      );
      detail = described.imageDetails?.[0];
    } catch (error) {
      reporter.warn(
        'ECR could not describe the image; the approval message leaves it out',
        errorAttributes(error),
      );
      return undefined;
    }
    if (!detail) return undefined;
    let scan: ImageFacts['scan'];
    const status = detail.imageScanStatus?.status;
    const summary = detail.imageScanFindingsSummary;
    if (status && SCAN_FINISHED.has(status) && summary?.findingSeverityCounts) {
      scan = {
        status,
        counts: severityCountsOf(summary.findingSeverityCounts),
        ...(summary.imageScanCompletedAt ? { completedAt: summary.imageScanCompletedAt.toISOString() } : {}),
      };
    }
    const facts: ImageFacts = {
      ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt.toISOString() } : {}),
      ...(detail.imageSizeInBytes !== undefined ? { sizeBytes: detail.imageSizeInBytes } : {}),
      ...(scan ? { scan } : {}),
    };
    return Object.keys(facts).length === 0 ? undefined : facts;
  };
}
