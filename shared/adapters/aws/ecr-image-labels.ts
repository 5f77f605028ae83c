/**
 * An image's labels, read from its config blob through ECR: BatchGetImage for the manifest (an OCI
 * index or Docker manifest list is resolved to its linux/amd64 image, or its first), then
 * GetDownloadUrlForLayer for the config blob, then one GET of that (pre-signed S3) URL with a
 * timeout and a size cap. The blob is checked against its digest before it is believed.
 */
import { createHash } from 'node:crypto';
import { BatchGetImageCommand, type ECRClient, GetDownloadUrlForLayerCommand } from '@aws-sdk/client-ecr';
import type { Release } from '../../contracts/tasks.js';
import type { ImageLabelsSource } from '../../ports/image-labels.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const INDEXES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const MANIFESTS = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface EcrImageLabelsOptions {
  /** The whole download of the config blob. @default 5 s */
  readonly timeoutMs?: number;
  /** The largest config blob read (an image config is a few KB; a long history some hundreds). @default 2 MiB */
  readonly maxBytes?: number;
}

interface Descriptor {
  readonly mediaType?: string;
  readonly digest?: string;
  readonly size?: number;
  readonly platform?: { readonly os?: string; readonly architecture?: string };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The image an index stands for: linux/amd64, else the first that is not an attestation, else the first. */
export function pickFromIndex(manifests: readonly Descriptor[]): Descriptor | undefined {
  return (
    manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ??
    manifests.find((m) => m.platform?.os !== 'unknown') ??
    manifests[0]
  );
}

/** Only https, except on the loopback interface (a local stand-in for S3). */
function checkedUrl(text: string): URL {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  const loopback =
    url && (url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost');
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw new Error('ECR gave a download URL that is not https');
  }
  return url;
}

/** The response body, refused past `maxBytes` (by Content-Length, or as it streams). */
async function readCapped(response: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`the image config is ${declared} bytes, more than the ${maxBytes} read`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new Error(`the image config is more than the ${maxBytes} bytes read`);
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

export function ecrImageLabels(client: ECRClient, options: EcrImageLabelsOptions = {}): ImageLabelsSource {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;

  const manifestOf = async (release: Release, digest: string) => {
    const answer = await client.send(
      new BatchGetImageCommand({
        registryId: release.registryId,
        repositoryName: release.ecrRepository,
        imageIds: [{ imageDigest: digest }],
        acceptedMediaTypes: Object.values(MEDIA_TYPES),
      }),
    );
    const image = answer.images?.[0];
    if (!image?.imageManifest) {
      const failure = answer.failures?.[0];
      throw new Error(
        `ECR has no manifest for ${release.ecrRepository}@${digest}${failure ? ` (${failure.failureCode}: ${failure.failureReason})` : ''}`,
      );
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(image.imageManifest);
    } catch {
      throw new Error(`the manifest of ${release.ecrRepository}@${digest} is not JSON`);
    }
    if (!isObject(manifest))
      throw new Error(`the manifest of ${release.ecrRepository}@${digest} is not an object`);
    const mediaType =
      image.imageManifestMediaType ?? (typeof manifest.mediaType === 'string' ? manifest.mediaType : '');
    return { manifest, mediaType };
  };

  return async (release) => {
    let { manifest, mediaType } = await manifestOf(release, release.digest);
    if (INDEXES.has(mediaType)) {
      const chosen = pickFromIndex(
        Array.isArray(manifest.manifests) ? (manifest.manifests as Descriptor[]) : [],
      );
      if (!chosen?.digest || !DIGEST.test(chosen.digest)) {
        throw new Error(`the image index ${release.ecrRepository}@${release.digest} lists no image`);
      }
      ({ manifest, mediaType } = await manifestOf(release, chosen.digest));
    }
    if (!MANIFESTS.has(mediaType)) {
      throw new Error(`the manifest's media type ${JSON.stringify(mediaType)} is not one Shiplane reads`);
    }
    const config = isObject(manifest.config) ? (manifest.config as Descriptor) : undefined;
    if (!config?.digest || !DIGEST.test(config.digest)) {
      throw new Error('the manifest names no sha256 config blob');
    }
    if (typeof config.size === 'number' && config.size > maxBytes) {
      throw new Error(`the image config is ${config.size} bytes, more than the ${maxBytes} read`);
    }

    const download = await client.send(
      new GetDownloadUrlForLayerCommand({
        registryId: release.registryId,
        repositoryName: release.ecrRepository,
        layerDigest: config.digest,
      }),
    );
    if (!download.downloadUrl) throw new Error('ECR gave no download URL for the image config');
    const url = checkedUrl(download.downloadUrl);
    const signal = AbortSignal.timeout(timeoutMs);
    let body: Buffer;
    try {
      const response = await fetch(url, { signal, redirect: 'error' });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`downloading the image config answered HTTP ${response.status}`);
      }
      body = await readCapped(response, maxBytes);
    } catch (error) {
      if (signal.aborted) throw new Error(`downloading the image config took longer than ${timeoutMs} ms`);
      throw error;
    }
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (digest !== config.digest) throw new Error('the image config does not match its digest');

    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Error('the image config is not JSON');
    }
    const labels = isObject(parsed) && isObject(parsed.config) ? parsed.config.Labels : undefined;
    return Object.fromEntries(
      Object.entries(isObject(labels) ? labels : {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  };
}
