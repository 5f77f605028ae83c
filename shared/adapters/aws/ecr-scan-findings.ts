/**
 * The pushed image's scan as ECR reports it (DescribeImageScanFindings for the digest, every page):
 * basic scanning's `findings` and enhanced scanning's (Amazon Inspector) `enhancedFindings`, turned
 * into the gate's ScanReport. The scan statuses are read here once, also for the approval message's
 * finding counts (ecr-image-facts).
 */
import {
  type DescribeImageScanFindingsResponse,
  type ECRClient,
  type EnhancedImageScanFinding,
  type ImageScanFinding,
  paginateDescribeImageScanFindings,
  ScanNotFoundException,
} from '@aws-sdk/client-ecr';
import type { Release } from '../../contracts/tasks.js';
import type { ScanFinding, ScanReport } from '../../domain/scan-verdict.js';
import type { ScanFindingsSource } from '../../ports/scan-findings.js';

/** Scan states whose findings are final: basic scanning says COMPLETE, enhanced scanning ACTIVE. */
export const SCAN_FINISHED: ReadonlySet<string> = new Set(['COMPLETE', 'ACTIVE']);
/** The scan has not produced findings yet; asking again later may. */
const SCAN_WAITING: ReadonlySet<string> = new Set(['PENDING', 'IN_PROGRESS']);

/** ECR's per-severity counts, numbers only. */
export function severityCountsOf(
  counts: Partial<Record<string, number>> | undefined,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}

/** A DescribeImageScanFindings page's status, as the gate reads it. */
function statusOf(page: DescribeImageScanFindingsResponse): { status: string; description?: string } {
  const { status = 'UNKNOWN', description } = page.imageScanStatus ?? {};
  return description ? { status, description } : { status };
}

const statusText = ({ status, description }: { status: string; description?: string }) =>
  description ? `scan ${status}: ${description}` : `scan ${status}`;

/** `package_name` and friends from a basic finding's attribute list. */
function attribute(finding: ImageScanFinding, key: string): string | undefined {
  const value = finding.attributes?.find((entry) => entry.key === key)?.value;
  return value === undefined || value === '' ? undefined : value;
}

/** A basic scanning finding (Clair-based): the CVE in `name`, the package in attributes. */
export function basicFinding(finding: ImageScanFinding): ScanFinding {
  const packageName = attribute(finding, 'package_name');
  const version = attribute(finding, 'package_version');
  return {
    id: finding.name ?? 'unnamed finding',
    severity: (finding.severity ?? 'UNDEFINED').toUpperCase(),
    ...(packageName ? { package: packageName } : {}),
    ...(version ? { installedVersion: version } : {}),
    ...(finding.uri ? { url: finding.uri } : {}),
  };
}

/**
 * An enhanced scanning finding (Amazon Inspector): the CVE in packageVulnerabilityDetails (the title
 * starts with it too), the first vulnerable package with its fix; none when Inspector closed it.
 */
export function enhancedFinding(finding: EnhancedImageScanFinding): ScanFinding {
  const details = finding.packageVulnerabilityDetails;
  const vulnerable =
    details?.vulnerablePackages?.find((pkg) => pkg.fixedInVersion) ?? details?.vulnerablePackages?.[0];
  const fixedIn = vulnerable?.fixedInVersion;
  const url = details?.sourceUrl ?? details?.referenceUrls?.[0];
  return {
    id: details?.vulnerabilityId ?? finding.title?.split(' ')[0] ?? finding.findingArn ?? 'unnamed finding',
    severity: (finding.severity ?? 'UNDEFINED').toUpperCase(),
    ...(vulnerable?.name ? { package: vulnerable.name } : {}),
    ...(vulnerable?.version ? { installedVersion: vulnerable.version } : {}),
    // Inspector writes NotAvailable when no version fixes it.
    ...(fixedIn && fixedIn !== 'NotAvailable' ? { fixedIn } : {}),
    ...(url ? { url } : {}),
  };
}

/** Inspector keeps findings it has closed (status CLOSED, or SUPPRESSED by a rule); only ACTIVE ones count. */
const isOpen = (finding: EnhancedImageScanFinding) =>
  finding.status === undefined || finding.status === 'ACTIVE';

/** What a report of the image's findings says, from DescribeImageScanFindings pages. */
export async function readScanReport(client: ECRClient, release: Release): Promise<ScanReport> {
  const pages = paginateDescribeImageScanFindings(
    { client, pageSize: 1000 },
    {
      registryId: release.registryId,
      repositoryName: release.ecrRepository,
      imageId: { imageDigest: release.digest },
    },
  );
  const findings: ScanFinding[] = [];
  let scanner: 'basic' | 'enhanced' = 'basic';
  let completedAt: Date | undefined;
  try {
    for await (const page of pages) {
      const status = statusOf(page);
      if (SCAN_WAITING.has(status.status)) return { status: 'pending', reason: statusText(status) };
      if (!SCAN_FINISHED.has(status.status)) return { status: 'unavailable', reason: statusText(status) };
      const scan = page.imageScanFindings;
      completedAt ??= scan?.imageScanCompletedAt;
      findings.push(...(scan?.findings ?? []).map(basicFinding));
      if (scan?.enhancedFindings || status.status === 'ACTIVE') scanner = 'enhanced';
      findings.push(...(scan?.enhancedFindings ?? []).filter(isOpen).map(enhancedFinding));
    }
  } catch (error) {
    // No scan of this image yet (scan on push not started, or enhanced scanning still queuing it).
    if (error instanceof ScanNotFoundException)
      return { status: 'pending', reason: 'no scan of the image yet' };
    throw error;
  }
  return {
    status: 'complete',
    scanner,
    findings,
    ...(completedAt ? { completedAt: completedAt.toISOString() } : {}),
  };
}

/** The scan gate's source of findings: ECR, through the client the platform passes (AWS or the sandbox's stand-in). */
export function ecrScanFindings(client: ECRClient): ScanFindingsSource {
  return (release) => readScanReport(client, release);
}
