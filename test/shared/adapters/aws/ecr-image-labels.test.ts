/**
 * The image's labels through ECR (mocked SDK) and the config blob's download URL (a local HTTP server
 * on 127.0.0.1 standing in for S3's pre-signed URL).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchGetImageCommand, ECRClient, GetDownloadUrlForLayerCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ecrImageLabels,
  MEDIA_TYPES,
  pickFromIndex,
} from '../../../../shared/adapters/aws/ecr-image-labels.js';
import { release } from '../../../fixtures/slack/context.js';

const ecr = mockClient(ECRClient);
const sha256 = (text: string | Buffer) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

const LABELS = {
  'org.opencontainers.image.created': '2026-11-26T13:20:00Z',
  'org.opencontainers.image.revision': '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c',
  maintainer: 'platform@itdo-erp.com',
};
const imageConfig = (labels: Record<string, unknown> | undefined) =>
  JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2026-11-26T13:20:00Z',
    config: { Env: ['PATH=/usr/bin'], ...(labels ? { Labels: labels } : {}) },
    rootfs: { type: 'layers', diff_ids: [] },
  });

/** What the stand-in for S3 serves: blob paths to bodies, or a status. */
const blobs = new Map<string, { status?: number; body?: string | Buffer; delayMs?: number }>();
let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const blob = blobs.get(request.url ?? '');
    const answer = () => {
      if (!blob) return response.writeHead(404).end();
      response.writeHead(blob.status ?? 200, { 'content-type': 'application/octet-stream' });
      response.end(blob.body);
    };
    if (blob?.delayMs) setTimeout(answer, blob.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  ecr.reset();
  blobs.clear();
  requests.length = 0;
});

/** A manifest for a config blob, and the blob served at a pre-signed-looking path. */
function image(config: string | Buffer, mediaType: string = MEDIA_TYPES.ociManifest, size?: number) {
  const digest = sha256(config);
  const path = `/blobs/${digest.slice(7)}?X-Amz-Signature=abc`;
  blobs.set(path, { body: config });
  ecr.on(GetDownloadUrlForLayerCommand, { layerDigest: digest }).resolves({
    downloadUrl: `${base}${path}`,
    layerDigest: digest,
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest,
      size: size ?? Buffer.byteLength(config),
    },
    layers: [],
  });
  return { manifest, digest, path, mediaType };
}

function serveManifest(digest: string, manifest: string, mediaType: string) {
  ecr
    .on(BatchGetImageCommand, { imageIds: [{ imageDigest: digest }] })
    .resolves({ images: [{ imageManifest: manifest, imageManifestMediaType: mediaType }], failures: [] });
}

const labels = (options = {}) => ecrImageLabels(new ECRClient({}), options)(release());

describe('ecrImageLabels', () => {
  it('reads the labels of an OCI image: manifest, config blob URL, then the blob', async () => {
    const { manifest, digest, mediaType } = image(imageConfig(LABELS));
    serveManifest(release().digest, manifest, mediaType);

    expect(await labels()).toEqual(LABELS);
    const [get] = ecr.commandCalls(BatchGetImageCommand);
    expect(get?.args[0].input).toEqual({
      registryId: release().registryId,
      repositoryName: 'itdo-erp/backend',
      imageIds: [{ imageDigest: release().digest }],
      acceptedMediaTypes: Object.values(MEDIA_TYPES),
    });
    expect(ecr.commandCalls(GetDownloadUrlForLayerCommand)[0]?.args[0].input).toEqual({
      registryId: release().registryId,
      repositoryName: 'itdo-erp/backend',
      layerDigest: digest,
    });
    expect(requests).toHaveLength(1);
  });

  it('reads a Docker v2 manifest the same way', async () => {
    const { manifest, mediaType } = image(imageConfig(LABELS), MEDIA_TYPES.dockerManifest);
    serveManifest(release().digest, manifest, mediaType);
    expect(await labels()).toEqual(LABELS);
  });

  it('answers no labels for an image without any', async () => {
    const { manifest, mediaType } = image(imageConfig(undefined));
    serveManifest(release().digest, manifest, mediaType);
    expect(await labels()).toEqual({});
  });

  it('keeps string labels only', async () => {
    const { manifest, mediaType } = image(imageConfig({ a: 'b', n: 3, o: { x: 1 } }));
    serveManifest(release().digest, manifest, mediaType);
    expect(await labels()).toEqual({ a: 'b' });
  });

  it('resolves an image index (manifest list) to its linux/amd64 image', async () => {
    const amd64 = image(imageConfig(LABELS));
    const arm64 = image(imageConfig({ 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' }));
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: sha256(arm64.manifest),
          size: 1,
          platform: { os: 'linux', architecture: 'arm64' },
        },
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: sha256(amd64.manifest),
          size: 1,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    });
    serveManifest(release().digest, index, MEDIA_TYPES.ociIndex);
    serveManifest(sha256(amd64.manifest), amd64.manifest, amd64.mediaType);
    serveManifest(sha256(arm64.manifest), arm64.manifest, arm64.mediaType);

    expect(await labels()).toEqual(LABELS);
    expect(
      ecr.commandCalls(BatchGetImageCommand).map((call) => call.args[0].input.imageIds?.[0]?.imageDigest),
    ).toEqual([release().digest, sha256(amd64.manifest)]);
  });

  it('takes the first image of an index without linux/amd64, passing over attestations', () => {
    const attestation = { digest: 'sha256:a', platform: { os: 'unknown', architecture: 'unknown' } };
    const arm = { digest: 'sha256:b', platform: { os: 'linux', architecture: 'arm64' } };
    expect(pickFromIndex([attestation, arm])).toBe(arm);
    expect(pickFromIndex([attestation])).toBe(attestation);
    expect(pickFromIndex([])).toBeUndefined();
  });

  it('says why when ECR has no manifest for the digest', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [{ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
    });
    await expect(labels()).rejects.toThrow(
      `ECR has no manifest for itdo-erp/backend@${release().digest} (ImageNotFound: Requested image not found)`,
    );
  });

  it('refuses a manifest type it does not read (schema 1)', async () => {
    serveManifest(
      release().digest,
      '{"schemaVersion":1}',
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
    );
    await expect(labels()).rejects.toThrow(/media type .*v1\+prettyjws.* is not one Shiplane reads/);
  });

  it('fails, saying so, when the download answers an error', async () => {
    const { manifest, path, mediaType } = image(imageConfig(LABELS));
    serveManifest(release().digest, manifest, mediaType);
    blobs.set(path, { status: 403, body: '<Error><Code>AccessDenied</Code></Error>' });
    await expect(labels()).rejects.toThrow('downloading the image config answered HTTP 403');
  });

  it('gives up on a download that takes longer than the timeout', async () => {
    const { manifest, path, mediaType } = image(imageConfig(LABELS));
    serveManifest(release().digest, manifest, mediaType);
    blobs.set(path, { ...blobs.get(path), delayMs: 2_000 });
    await expect(labels({ timeoutMs: 100 })).rejects.toThrow(
      'downloading the image config took longer than 100 ms',
    );
  });

  it('refuses a config blob larger than the cap, by the manifest or as it streams', async () => {
    const big = imageConfig({ padding: 'x'.repeat(10_000) });
    const declared = image(big);
    serveManifest(release().digest, declared.manifest, declared.mediaType);
    await expect(labels({ maxBytes: 1_000 })).rejects.toThrow(/more than the 1000 (bytes )?read/);
    expect(requests).toEqual([]);

    ecr.reset();
    const understated = image(big, MEDIA_TYPES.ociManifest, 100);
    serveManifest(release().digest, understated.manifest, understated.mediaType);
    await expect(labels({ maxBytes: 1_000 })).rejects.toThrow(/more than the 1000 (bytes )?read/);
  });

  it('refuses a blob that does not match its digest', async () => {
    const { manifest, path, mediaType } = image(imageConfig(LABELS));
    serveManifest(release().digest, manifest, mediaType);
    blobs.set(path, { body: imageConfig({ 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' }) });
    await expect(labels()).rejects.toThrow('the image config does not match its digest');
  });

  it('refuses a download URL that is not https (outside the loopback interface)', async () => {
    const { manifest, digest, mediaType } = image(imageConfig(LABELS));
    serveManifest(release().digest, manifest, mediaType);
    ecr
      .on(GetDownloadUrlForLayerCommand)
      .resolves({ downloadUrl: 'http://example.com/blob', layerDigest: digest });
    await expect(labels()).rejects.toThrow('ECR gave a download URL that is not https');
  });
});
