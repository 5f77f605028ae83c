import { createHash } from 'node:crypto';
import {
  BatchGetImageCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  ECRClient,
  type ECRServiceException,
  GetDownloadUrlForLayerCommand,
  ImageNotFoundException,
  InvalidParameterException,
  LayersNotFoundException,
  ListImagesCommand,
  paginateDescribeImages,
  RepositoryNotFoundException,
  ScanNotFoundException,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ECR_TARGET_PREFIX,
  type EcrServer,
  ecrClientConfig,
  startEcrServer,
} from '../../../../local/stand-ins/ecr/server.js';
import { scanEventMeaning } from '../../../../shared/domain/scan-event.js';

const BACKEND = 'itdo-erp/backend';
const UNSCANNED = 'itdo-erp/unscanned';
const PUSHED_AT = new Date('2026-03-02T09:30:00.000Z');

let server: EcrServer;
let client: ECRClient;

beforeEach(async () => {
  server = await startEcrServer({
    region: 'ap-northeast-1',
    accountId: '123456789012',
    repositories: [BACKEND, { name: UNSCANNED, scanOnPush: false }],
  });
  client = new ECRClient(ecrClientConfig(server));
});
afterEach(async () => {
  client.destroy();
  await server.close();
});

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<ECRServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as ECRServiceException;
  }
  throw new Error('expected the call to fail');
}

describe('the ECR stand-in: DescribeImages', () => {
  it('describes a pushed image through the real ECRClient, by digest and by tag', async () => {
    const pushed = server.push({
      repository: BACKEND,
      tag: 'v2.1.6',
      pushedAt: PUSHED_AT,
      sizeBytes: 84_213_552,
    });

    for (const imageId of [{ imageDigest: pushed.digest }, { imageTag: 'v2.1.6' }]) {
      const output = await client.send(
        new DescribeImagesCommand({ repositoryName: BACKEND, imageIds: [imageId] }),
      );
      expect(output.imageDetails).toEqual([
        {
          registryId: '123456789012',
          repositoryName: BACKEND,
          imageDigest: pushed.digest,
          imageTags: ['v2.1.6'],
          imageSizeInBytes: 84_213_552,
          imagePushedAt: PUSHED_AT,
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
          artifactMediaType: 'application/vnd.oci.image.config.v1+json',
          imageStatus: 'ACTIVE',
          imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' },
          imageScanFindingsSummary: {
            imageScanCompletedAt: new Date(PUSHED_AT.getTime() + 3_000),
            vulnerabilitySourceUpdatedAt: new Date(PUSHED_AT.getTime() + 3_000 - 6 * 3600_000),
            findingSeverityCounts: {},
          },
        },
      ]);
    }
  });

  it('counts one critical finding for a -vuln tag in the summary', async () => {
    server.push({ repository: BACKEND, tag: 'v2.1.7-vuln', pushedAt: PUSHED_AT });

    const output = await client.send(
      new DescribeImagesCommand({ repositoryName: BACKEND, imageIds: [{ imageTag: 'v2.1.7-vuln' }] }),
    );

    expect(output.imageDetails?.[0]?.imageScanFindingsSummary?.findingSeverityCounts).toEqual({
      CRITICAL: 1,
    });
  });

  it('pushing a tag again is the same image: same digest, nothing added', async () => {
    const first = server.push({ repository: BACKEND, tag: 'v2.1.6' });
    const again = server.push({ repository: BACKEND, tag: 'v2.1.6' });

    expect(again.digest).toBe(first.digest);
    const output = await client.send(new DescribeImagesCommand({ repositoryName: BACKEND }));
    expect(output.imageDetails).toHaveLength(1);
  });

  it('pages with maxResults and nextToken, as the SDK paginator follows them', async () => {
    const tags = Array.from({ length: 7 }, (_, index) => `v2.1.${index}`);
    for (const tag of tags) server.push({ repository: BACKEND, tag });

    const first = await client.send(new DescribeImagesCommand({ repositoryName: BACKEND, maxResults: 3 }));
    expect(first.imageDetails?.map((detail) => detail.imageTags?.[0])).toEqual(tags.slice(0, 3));
    expect(first.nextToken).toEqual(expect.any(String));

    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeImages(
      { client, pageSize: 3 },
      { repositoryName: BACKEND, filter: { tagStatus: 'TAGGED' } },
    )) {
      pages += 1;
      for (const detail of page.imageDetails ?? []) seen.push(...(detail.imageTags ?? []));
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(tags);
  });

  it('filters by tagStatus: every pushed image is tagged', async () => {
    server.push({ repository: BACKEND, tag: 'v2.1.6' });

    const untagged = await client.send(
      new DescribeImagesCommand({ repositoryName: BACKEND, filter: { tagStatus: 'UNTAGGED' } }),
    );
    const tagged = await client.send(
      new DescribeImagesCommand({ repositoryName: BACKEND, filter: { tagStatus: 'TAGGED' } }),
    );

    expect(untagged.imageDetails).toEqual([]);
    expect(tagged.imageDetails).toHaveLength(1);
  });

  it('ImageNotFoundException for an image the repository does not have', async () => {
    const error = await failure(
      client.send(new DescribeImagesCommand({ repositoryName: BACKEND, imageIds: [{ imageTag: 'v9.9.9' }] })),
    );

    expect(error).toBeInstanceOf(ImageNotFoundException);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      "The image with imageId {imageDigest:'null', imageTag:'v9.9.9'} does not exist within the repository with name 'itdo-erp/backend' in the registry with id '123456789012'",
    );
  });

  it('RepositoryNotFoundException for a repository it does not have, or another registry', async () => {
    const missing = await failure(
      client.send(new DescribeImagesCommand({ repositoryName: 'itdo-erp/nope' })),
    );
    const elsewhere = await failure(
      client.send(new DescribeImagesCommand({ repositoryName: BACKEND, registryId: '210987654321' })),
    );

    expect(missing).toBeInstanceOf(RepositoryNotFoundException);
    expect(missing.message).toBe(
      "The repository with name 'itdo-erp/nope' does not exist in the registry with id '123456789012'",
    );
    expect(elsewhere).toBeInstanceOf(RepositoryNotFoundException);
  });

  it('InvalidParameterException for a foreign nextToken, maxResults out of range, or imageIds with maxResults', async () => {
    for (const tag of ['v1.0.0', 'v1.0.1']) server.push({ repository: BACKEND, tag });
    const scanToken = 'eyJvZmZzZXQiOjEsImtleSI6IjAwMDAwMDAwMDAwMDAwMDAifQ';

    const errors = await Promise.all([
      failure(client.send(new DescribeImagesCommand({ repositoryName: BACKEND, nextToken: scanToken }))),
      failure(client.send(new DescribeImagesCommand({ repositoryName: BACKEND, maxResults: 1001 }))),
      failure(
        client.send(
          new DescribeImagesCommand({
            repositoryName: BACKEND,
            maxResults: 1,
            imageIds: [{ imageTag: 'v1.0.0' }],
          }),
        ),
      ),
    ]);

    for (const error of errors) expect(error).toBeInstanceOf(InvalidParameterException);
  });

  it('a tagStatus outside the enum is a ValidationException naming the field', async () => {
    const error = await failure(
      client.send(
        new DescribeImagesCommand({ repositoryName: BACKEND, filter: { tagStatus: 'SOMETIMES' as never } }),
      ),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'filter.tagStatus'");
  });
});

describe('the ECR stand-in: DescribeImageScanFindings', () => {
  it('a -vuln tag has one CRITICAL finding, basic and enhanced, with the package and its fix', async () => {
    const pushed = server.push({ repository: BACKEND, tag: 'v2.1.7-vuln', pushedAt: PUSHED_AT });

    const output = await client.send(
      new DescribeImageScanFindingsCommand({ repositoryName: BACKEND, imageId: { imageTag: 'v2.1.7-vuln' } }),
    );

    expect(output.imageScanStatus?.status).toBe('COMPLETE');
    expect(output.imageId).toEqual({ imageDigest: pushed.digest, imageTag: 'v2.1.7-vuln' });
    const scan = output.imageScanFindings;
    expect(scan?.findingSeverityCounts).toEqual({ CRITICAL: 1 });
    expect(scan?.imageScanCompletedAt).toEqual(new Date(PUSHED_AT.getTime() + 3_000));
    expect(scan?.findings).toEqual([
      {
        name: 'CVE-2024-45490',
        description: expect.stringContaining('XML_ParseBuffer'),
        uri: 'https://security-tracker.debian.org/tracker/CVE-2024-45490',
        severity: 'CRITICAL',
        attributes: expect.arrayContaining([
          { key: 'package_name', value: 'expat' },
          { key: 'package_version', value: '2.5.0-1' },
        ]),
      },
    ]);
    const [enhanced] = scan?.enhancedFindings ?? [];
    expect(enhanced).toMatchObject({
      awsAccountId: '123456789012',
      severity: 'CRITICAL',
      status: 'ACTIVE',
      type: 'PACKAGE_VULNERABILITY',
      title: 'CVE-2024-45490 - expat',
      fixAvailable: 'YES',
      score: 9.8,
      firstObservedAt: new Date(PUSHED_AT.getTime() + 3_000),
      packageVulnerabilityDetails: {
        vulnerabilityId: 'CVE-2024-45490',
        sourceUrl: 'https://nvd.nist.gov/vuln/detail/CVE-2024-45490',
        vendorSeverity: 'CRITICAL',
        vulnerablePackages: [
          { name: 'expat', version: '2.5.0', release: '1', fixedInVersion: '0:2.5.0-1+deb12u1' },
        ],
      },
      resources: [
        {
          type: 'AWS_ECR_CONTAINER_IMAGE',
          details: {
            awsEcrContainerImage: { imageHash: pushed.digest, repositoryName: BACKEND, pushedAt: PUSHED_AT },
          },
        },
      ],
    });
    expect(enhanced?.findingArn).toMatch(
      /^arn:aws:inspector2:ap-northeast-1:123456789012:finding\/[0-9a-f]{32}$/,
    );
  });

  it('answers IN_PROGRESS, without findings, until the scan on push has completed (3 s)', async () => {
    const pushed = server.push({ repository: BACKEND, tag: 'v2.1.7-vuln' });

    const findings = await client.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: BACKEND,
        imageId: { imageDigest: pushed.digest },
      }),
    );
    const described = await client.send(
      new DescribeImagesCommand({ repositoryName: BACKEND, imageIds: [{ imageDigest: pushed.digest }] }),
    );

    expect(findings.imageScanStatus).toEqual({
      status: 'IN_PROGRESS',
      description: 'The scan is in progress.',
    });
    expect(findings.imageScanFindings).toBeUndefined();
    expect(described.imageDetails?.[0]?.imageScanStatus?.status).toBe('IN_PROGRESS');
    expect(described.imageDetails?.[0]?.imageScanFindingsSummary).toBeUndefined();
  });

  it('any other tag is scanned COMPLETE with no findings', async () => {
    const pushed = server.push({ repository: BACKEND, tag: 'v2.1.6', pushedAt: PUSHED_AT });

    const output = await client.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: BACKEND,
        imageId: { imageDigest: pushed.digest },
      }),
    );

    expect(output.imageScanStatus?.status).toBe('COMPLETE');
    expect(output.imageScanFindings).toMatchObject({
      findingSeverityCounts: {},
      findings: [],
      enhancedFindings: [],
    });
  });

  it('pages findings with maxResults', async () => {
    server.push({ repository: BACKEND, tag: 'v2.1.7-vuln', pushedAt: PUSHED_AT });

    const output = await client.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: BACKEND,
        imageId: { imageTag: 'v2.1.7-vuln' },
        maxResults: 1,
      }),
    );

    expect(output.imageScanFindings?.findings).toHaveLength(1);
    expect(output.nextToken).toBeUndefined();
  });

  it('ScanNotFoundException for an image of a repository that does not scan on push', async () => {
    server.push({ repository: UNSCANNED, tag: 'v1.0.0' });

    const error = await failure(
      client.send(
        new DescribeImageScanFindingsCommand({ repositoryName: UNSCANNED, imageId: { imageTag: 'v1.0.0' } }),
      ),
    );
    const described = await client.send(new DescribeImagesCommand({ repositoryName: UNSCANNED }));

    expect(error).toBeInstanceOf(ScanNotFoundException);
    expect(error.message).toContain("in the repository with name 'itdo-erp/unscanned'");
    expect(described.imageDetails?.[0]?.imageScanStatus).toBeUndefined();
  });

  it('ImageNotFoundException for an image it does not have', async () => {
    const error = await failure(
      client.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: BACKEND,
          imageId: { imageDigest: sha256('nothing') },
        }),
      ),
    );

    expect(error).toBeInstanceOf(ImageNotFoundException);
  });
});

describe('the ECR stand-in: BatchGetImage and GetDownloadUrlForLayer', () => {
  it('gives the OCI manifest whose sha256 is the image digest, and its config blob with the OCI labels', async () => {
    const pushed = server.push({ repository: BACKEND, tag: 'v2.1.6', pushedAt: PUSHED_AT });

    const output = await client.send(
      new BatchGetImageCommand({
        repositoryName: BACKEND,
        imageIds: [{ imageTag: 'v2.1.6' }],
        acceptedMediaTypes: ['application/vnd.oci.image.manifest.v1+json'],
      }),
    );

    expect(output.failures).toEqual([]);
    const [image] = output.images ?? [];
    expect(image?.imageId).toEqual({ imageDigest: pushed.digest, imageTag: 'v2.1.6' });
    expect(image?.imageManifestMediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(sha256(image?.imageManifest ?? '')).toBe(pushed.digest);
    const manifest = JSON.parse(image?.imageManifest ?? '{}') as {
      config: { mediaType: string; digest: string; size: number };
      layers: Array<{ size: number }>;
    };
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.layers.reduce((sum, layer) => sum + layer.size, 0)).toBe(pushed.sizeBytes);

    const url = await client.send(
      new GetDownloadUrlForLayerCommand({ repositoryName: BACKEND, layerDigest: manifest.config.digest }),
    );
    expect(url.layerDigest).toBe(manifest.config.digest);
    expect(url.downloadUrl?.startsWith(`${server.endpoint}/`)).toBe(true);

    const blob = await fetch(url.downloadUrl ?? '');
    const text = await blob.text();
    expect(blob.status).toBe(200);
    expect(sha256(text)).toBe(manifest.config.digest);
    expect(Buffer.byteLength(text)).toBe(manifest.config.size);
    const labels = (JSON.parse(text) as { config: { Labels: Record<string, string> } }).config.Labels;
    expect(labels['org.opencontainers.image.created']).toBe('2026-03-02T09:26:00.000Z');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reports missing and mismatched images as failures, not errors', async () => {
    const pushed = server.push({ repository: BACKEND, tag: 'v2.1.6' });
    server.push({ repository: BACKEND, tag: 'v2.1.7' });

    const output = await client.send(
      new BatchGetImageCommand({
        repositoryName: BACKEND,
        imageIds: [
          { imageTag: 'v9.9.9' },
          { imageTag: 'v2.1.7', imageDigest: pushed.digest },
          { imageDigest: 'sha256:short' },
          {},
          { imageDigest: pushed.digest },
        ],
      }),
    );

    expect(output.images?.map((image) => image.imageId?.imageDigest)).toEqual([pushed.digest]);
    expect(output.failures?.map((failed) => failed.failureCode)).toEqual([
      'ImageNotFound',
      'ImageTagDoesNotMatchDigest',
      'InvalidImageDigest',
      'MissingDigestAndTag',
    ]);
    expect(output.failures?.[0]).toEqual({
      imageId: { imageTag: 'v9.9.9' },
      failureCode: 'ImageNotFound',
      failureReason: 'Requested image not found',
    });
  });

  it('LayersNotFoundException for a digest it does not hold; the blob URL of another repository is a 404', async () => {
    const pushed = server.push({ repository: BACKEND, tag: 'v2.1.6' });
    const manifest = JSON.parse(pushed.built.manifest) as {
      config: { digest: string };
      layers: Array<{ digest: string }>;
    };

    const unknown = await failure(
      client.send(
        new GetDownloadUrlForLayerCommand({ repositoryName: BACKEND, layerDigest: sha256('nothing') }),
      ),
    );
    const layer = await failure(
      client.send(
        new GetDownloadUrlForLayerCommand({
          repositoryName: BACKEND,
          layerDigest: manifest.layers[0]?.digest,
        }),
      ),
    );
    const notADigest = await failure(
      client.send(new GetDownloadUrlForLayerCommand({ repositoryName: BACKEND, layerDigest: 'latest' })),
    );
    const otherRepository = await fetch(`${server.endpoint}/blobs/${UNSCANNED}/${manifest.config.digest}`);

    expect(unknown).toBeInstanceOf(LayersNotFoundException);
    expect(layer).toBeInstanceOf(LayersNotFoundException);
    expect(layer.message).toContain('keeps image configs, not layer contents');
    expect(notADigest).toBeInstanceOf(InvalidParameterException);
    expect(otherRepository.status).toBe(404);
  });
});

describe('the ECR stand-in: the protocol', () => {
  it('an operation it does not have is an UnknownOperationException (400)', async () => {
    const error = await failure(client.send(new ListImagesCommand({ repositoryName: BACKEND })));

    expect(error.name).toBe('UnknownOperationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(`Unknown operation ${ECR_TARGET_PREFIX}ListImages`);
  });

  it('answers in JSON 1.1 with a request id; a body that is not JSON is a SerializationException', async () => {
    const response = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${ECR_TARGET_PREFIX}DescribeImages`,
      },
      body: '{not json',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      __type: 'SerializationException',
      message: 'The request body is not JSON',
    });
  });

  it('refuses to record a push to a repository it does not have, or of a tag ECR would refuse', () => {
    expect(() => server.push({ repository: 'itdo-erp/nope', tag: 'v1.0.0' })).toThrow(
      "The repository with name 'itdo-erp/nope' does not exist",
    );
    expect(() => server.push({ repository: BACKEND, tag: '-bad tag' })).toThrow(
      "'-bad tag' is not an image tag",
    );
    expect(server.registry.images()).toEqual([]);
  });
});

describe('ECR Image Scan events', () => {
  it('sends the ECR Image Scan event of a scan on push when it completes, once per image, in the shape scan-events reads', async () => {
    const events: Array<Record<string, unknown>> = [];
    const stop = server.onScanEvent((event) => events.push(event));
    // Pushed a minute ago: its scan has completed, so its event goes out at once.
    const pushedAt = new Date(Date.now() - 60_000);
    const image = server.push({ repository: BACKEND, tag: 'v2.1.7-vuln', pushedAt });
    server.push({ repository: BACKEND, tag: 'v2.1.7-vuln', pushedAt });
    server.push({ repository: UNSCANNED, tag: 'v1.0.0', pushedAt });
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop();

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'aws.ecr',
      'detail-type': 'ECR Image Scan',
      account: '123456789012',
      region: 'ap-northeast-1',
      resources: [`arn:aws:ecr:ap-northeast-1:123456789012:repository/${BACKEND}`],
      detail: {
        'scan-status': 'COMPLETE',
        'repository-name': BACKEND,
        'image-digest': image.digest,
        'image-tags': ['v2.1.7-vuln'],
        'finding-severity-counts': { CRITICAL: 1 },
      },
    });
    expect(scanEventMeaning(events[0], [BACKEND])).toMatchObject({
      kind: 'wake',
      repository: BACKEND,
      digest: image.digest,
    });
  });

  it('sends nothing to a listener that left', async () => {
    const events: unknown[] = [];
    const stop = server.onScanEvent((event) => events.push(event));
    stop();
    server.push({ repository: BACKEND, tag: 'v2.1.8', pushedAt: new Date(Date.now() - 60_000) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual([]);
  });

  it('cancels the events of scans still running when the server closes', async () => {
    const events: unknown[] = [];
    server.onScanEvent((event) => events.push(event));
    // Pushed now: its scan completes in 3 s, after the close.
    server.push({ repository: BACKEND, tag: 'v2.1.9' });
    await server.close();
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(events).toEqual([]);
    server = await startEcrServer({ repositories: [BACKEND] });
  });
});
