/**
 * The scan results the stand-in gives: an image whose tag ends in `-vuln` carries one CRITICAL
 * finding, every other image none. The finding is a real CVE (libexpat's negative-length
 * XML_ParseBuffer, CVE-2024-45490) in both of ECR's shapes: the basic scan's `findings` and the
 * enhanced scan's (Amazon Inspector) `enhancedFindings`, as DescribeImageScanFindings returns them.
 */

type Json = Record<string, unknown>;

/** Tags with this suffix are scanned with a CRITICAL finding. */
export const VULNERABLE_SUFFIX = '-vuln';

export const VULNERABILITY = {
  id: 'CVE-2024-45490',
  severity: 'CRITICAL',
  packageName: 'expat',
  packageVersion: '2.5.0-1',
  fixedInVersion: '0:2.5.0-1+deb12u1',
  score: 9.8,
  vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  description:
    'An issue was discovered in libexpat before 2.6.3. xmlparse.c does not reject a negative length for XML_ParseBuffer.',
  uri: 'https://security-tracker.debian.org/tracker/CVE-2024-45490',
  sourceUrl: 'https://nvd.nist.gov/vuln/detail/CVE-2024-45490',
  publishedAt: new Date('2024-08-30T03:15:03Z'),
} as const;

export interface ScannedImage {
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedAt: Date;
  readonly scannedAt: Date;
  readonly layerDigest: string;
}

export const isVulnerable = (tags: readonly string[]) => tags.some((tag) => tag.endsWith(VULNERABLE_SUFFIX));

/** Counts by severity, as `findingSeverityCounts`. */
export function severityCounts(tags: readonly string[]): Record<string, number> {
  return isVulnerable(tags) ? { [VULNERABILITY.severity]: 1 } : {};
}

const seconds = (date: Date) => date.getTime() / 1000;

/** A basic scan's findings (the `findings` list). */
export function basicFindings(image: ScannedImage): Json[] {
  if (!isVulnerable(image.tags)) return [];
  const v = VULNERABILITY;
  return [
    {
      name: v.id,
      description: v.description,
      uri: v.uri,
      severity: v.severity,
      attributes: [
        { key: 'package_version', value: v.packageVersion },
        { key: 'package_name', value: v.packageName },
        { key: 'CVSS3_VECTOR', value: v.vector },
        { key: 'CVSS3_SCORE', value: String(v.score) },
      ],
    },
  ];
}

/** An enhanced scan's findings (Amazon Inspector, the `enhancedFindings` list). */
export function enhancedFindings(image: ScannedImage): Json[] {
  if (!isVulnerable(image.tags)) return [];
  const v = VULNERABILITY;
  const [version, release] = v.packageVersion.split('-');
  const findingId = image.digest.slice('sha256:'.length, 'sha256:'.length + 32);
  return [
    {
      awsAccountId: image.registryId,
      description: v.description,
      findingArn: `arn:aws:inspector2:${image.region}:${image.registryId}:finding/${findingId}`,
      firstObservedAt: seconds(image.scannedAt),
      lastObservedAt: seconds(image.scannedAt),
      updatedAt: seconds(image.scannedAt),
      packageVulnerabilityDetails: {
        cvss: [{ baseScore: v.score, scoringVector: v.vector, source: 'NVD', version: '3.1' }],
        referenceUrls: [v.uri, 'https://github.com/libexpat/libexpat/pull/888'],
        relatedVulnerabilities: [],
        source: 'NVD',
        sourceUrl: v.sourceUrl,
        vendorCreatedAt: seconds(v.publishedAt),
        vendorSeverity: v.severity,
        vulnerabilityId: v.id,
        vulnerablePackages: [
          {
            arch: 'AMD64',
            epoch: 0,
            name: v.packageName,
            packageManager: 'OS',
            release,
            sourceLayerHash: image.layerDigest,
            version,
            fixedInVersion: v.fixedInVersion,
          },
        ],
      },
      remediation: { recommendation: { text: 'None Provided' } },
      resources: [
        {
          id: `arn:aws:ecr:${image.region}:${image.registryId}:repository/${image.repository}/${image.digest}`,
          type: 'AWS_ECR_CONTAINER_IMAGE',
          details: {
            awsEcrContainerImage: {
              architecture: 'amd64',
              imageHash: image.digest,
              imageTags: [...image.tags],
              platform: 'DEBIAN_12',
              pushedAt: seconds(image.pushedAt),
              registry: image.registryId,
              repositoryName: image.repository,
            },
          },
        },
      ],
      score: v.score,
      scoreDetails: {
        cvss: {
          adjustments: [],
          score: v.score,
          scoreSource: 'NVD',
          scoringVector: v.vector,
          version: '3.1',
        },
      },
      severity: v.severity,
      status: 'ACTIVE',
      title: `${v.id} - ${v.packageName}`,
      type: 'PACKAGE_VULNERABILITY',
      fixAvailable: 'YES',
      exploitAvailable: 'NO',
    },
  ];
}
