import {
  DescribeImageScanFindingsCommand,
  ECRClient,
  RepositoryNotFoundException,
  ScanNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ecrScanFindings } from '../../../../shared/adapters/aws/ecr-scan-findings.js';
import {
  basicComplete,
  DIGEST,
  enhancedActive,
  REGISTRY,
  REPOSITORY,
} from '../../../fixtures/ecr/scan-findings.js';
import { release } from '../../../fixtures/slack/context.js';

const ecr = mockClient(ECRClient);
const read = () => ecrScanFindings(new ECRClient({}))(release());

beforeEach(() => {
  ecr.reset();
});

describe('ecrScanFindings', () => {
  it('reads basic scanning findings for the pushed digest', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(basicComplete());

    expect(await read()).toEqual({
      status: 'complete',
      scanner: 'basic',
      completedAt: '2026-11-26T13:41:12.000Z',
      findings: [
        {
          id: 'CVE-2019-5188',
          severity: 'HIGH',
          package: 'e2fsprogs',
          installedVersion: '1.44.1-1ubuntu1.1',
          url: 'http://people.ubuntu.com/~ubuntu-security/cve/CVE-2019-5188',
        },
        {
          id: 'CVE-2020-1751',
          severity: 'LOW',
          package: 'glibc',
          installedVersion: '2.27-3ubuntu1',
          url: 'http://people.ubuntu.com/~ubuntu-security/cve/CVE-2020-1751',
        },
      ],
    });
    expect(ecr.commandCalls(DescribeImageScanFindingsCommand)[0]?.args[0].input).toEqual({
      registryId: REGISTRY,
      repositoryName: REPOSITORY,
      imageId: { imageDigest: DIGEST },
      maxResults: 1000,
    });
  });

  it('reads enhanced (Inspector) findings, open ones only, with the fixed version and link', async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves(enhancedActive());

    expect(await read()).toEqual({
      status: 'complete',
      scanner: 'enhanced',
      completedAt: '2026-11-26T13:42:40.000Z',
      findings: [
        {
          id: 'CVE-2024-3094',
          severity: 'CRITICAL',
          package: 'xz-utils',
          installedVersion: '5.6.0',
          fixedIn: '5.6.1+really5.4.5-1',
          url: 'https://security-tracker.debian.org/tracker/CVE-2024-3094',
        },
      ],
    });
  });

  it('leaves out a fixed version Inspector says is NotAvailable', async () => {
    const answer = enhancedActive();
    const closed = answer.imageScanFindings?.enhancedFindings?.[1];
    if (closed) closed.status = 'ACTIVE';
    ecr.on(DescribeImageScanFindingsCommand).resolves(answer);

    const report = await read();
    expect(report.status === 'complete' && report.findings[1]).toEqual({
      id: 'CVE-2023-44487',
      severity: 'HIGH',
      package: 'nghttp2',
      installedVersion: '1.52.0',
      url: 'https://nvd.nist.gov/vuln/detail/CVE-2023-44487',
    });
  });

  it('reads every page', async () => {
    const first = basicComplete();
    const second = basicComplete();
    if (second.imageScanFindings) {
      second.imageScanFindings.findings = [
        {
          name: 'CVE-2024-0001',
          severity: 'CRITICAL',
          uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-0001',
        },
      ];
    }
    ecr
      .on(DescribeImageScanFindingsCommand)
      .resolvesOnce({ ...first, nextToken: 'page-2' })
      .resolvesOnce(second);

    const report = await read();

    expect(report.status === 'complete' && report.findings.map((f) => f.id)).toEqual([
      'CVE-2019-5188',
      'CVE-2020-1751',
      'CVE-2024-0001',
    ]);
    const calls = ecr.commandCalls(DescribeImageScanFindingsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.nextToken).toBe('page-2');
  });

  it.each(['PENDING', 'IN_PROGRESS'])('is pending while the scan is %s', async (status) => {
    ecr.on(DescribeImageScanFindingsCommand).resolves({
      registryId: REGISTRY,
      repositoryName: REPOSITORY,
      imageId: { imageDigest: DIGEST },
      imageScanStatus: { status: status as 'PENDING', description: 'The scan is in progress.' },
    });
    expect(await read()).toEqual({ status: 'pending', reason: `scan ${status}: The scan is in progress.` });
  });

  it('is pending when ECR has no scan of the image yet (ScanNotFoundException)', async () => {
    ecr.on(DescribeImageScanFindingsCommand).rejects(
      new ScanNotFoundException({
        $metadata: { httpStatusCode: 400 },
        message: `Image scan does not exist for image with '{imageDigest:'${DIGEST}'}' in the repository with name '${REPOSITORY}' in the registry with id '${REGISTRY}'`,
      }),
    );
    expect(await read()).toEqual({ status: 'pending', reason: 'no scan of the image yet' });
  });

  it.each([
    ['FAILED', 'UnsupportedImageError: The operating system and/or package manager are not supported.'],
    ['UNSUPPORTED_IMAGE', 'The operating system and/or package manager are not supported.'],
    ['SCAN_ELIGIBILITY_EXPIRED', 'The image is no longer eligible for continuous scanning.'],
    ['FINDINGS_UNAVAILABLE', 'Findings are unavailable.'],
  ])('is unavailable when the scan is %s', async (status, description) => {
    ecr.on(DescribeImageScanFindingsCommand).resolves({
      imageScanStatus: { status: status as 'FAILED', description },
    });
    expect(await read()).toEqual({ status: 'unavailable', reason: `scan ${status}: ${description}` });
  });

  it('throws what ECR throws otherwise (the task retries, then fails the run)', async () => {
    ecr
      .on(DescribeImageScanFindingsCommand)
      .rejects(new RepositoryNotFoundException({ $metadata: {}, message: 'The repository does not exist' }));
    await expect(read()).rejects.toThrow(RepositoryNotFoundException);
  });
});
