/**
 * What ECR knows about the released image: push time, size and the scan's finding counts. It is
 * context for a person deciding, never a gate: an image ECR cannot describe, a scan that has not
 * completed, or an error leaves the part out and the approval goes on.
 */
import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  type ECRClient,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import type { ImageFacts } from '../../domain/approval.js';
import type { ImageFactsSource } from '../../ports/image-facts.js';
import { errorAttributes, type Reporter } from '../../ports/reporter.js';
// Which scan states have meaningful findings is the scan gate's reading of ECR too: one place.
import { severityCountsOf as countsOf, SCAN_FINISHED as SCANNED } from './ecr-scan-findings.js';

/** Reads DescribeImages, then DescribeImageScanFindings when the image detail has no summary. */
export function ecrImageFacts(client: ECRClient, reporter: Reporter): ImageFactsSource {
  return async (release) => {
    const imageId = { imageDigest: release.digest };
    const target = { registryId: release.registryId, repositoryName: release.ecrRepository };
    let detail: ImageDetail | undefined;
    try {
      const described = await client.send(new DescribeImagesCommand({ ...target, imageIds: [imageId] }));
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
    if (status && SCANNED.has(status)) {
      const summary = detail.imageScanFindingsSummary;
      if (summary?.findingSeverityCounts) {
        scan = {
          status,
          counts: countsOf(summary.findingSeverityCounts),
          ...(summary.imageScanCompletedAt
            ? { completedAt: summary.imageScanCompletedAt.toISOString() }
            : {}),
        };
      } else {
        try {
          const findings = await client.send(
            new DescribeImageScanFindingsCommand({ ...target, imageId, maxResults: 1 }),
          );
          const scanStatus = findings.imageScanStatus?.status;
          if (scanStatus && SCANNED.has(scanStatus) && findings.imageScanFindings) {
            const completedAt = findings.imageScanFindings.imageScanCompletedAt;
            scan = {
              status: scanStatus,
              counts: countsOf(findings.imageScanFindings.findingSeverityCounts),
              ...(completedAt ? { completedAt: completedAt.toISOString() } : {}),
            };
          }
        } catch (error) {
          reporter.warn(
            'ECR has no scan findings for the image; the approval message leaves them out',
            errorAttributes(error),
          );
        }
      }
    }
    const facts: ImageFacts = {
      ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt.toISOString() } : {}),
      ...(detail.imageSizeInBytes !== undefined ? { sizeBytes: detail.imageSizeInBytes } : {}),
      ...(scan ? { scan } : {}),
    };
    return Object.keys(facts).length === 0 ? undefined : facts;
  };
}
