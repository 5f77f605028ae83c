/**
 * What a pushed image is made of, as a registry stores it: an OCI image config (with the build's
 * `org.opencontainers.image.*` labels, as `docker buildx --label` or a CI's metadata action writes
 * them) and an OCI image manifest pointing at it. The image digest is the sha256 of the manifest's
 * bytes and the config descriptor's digest that of the config's bytes, so a client that checks
 * either finds them right. Layer contents are not held: the manifest lists layer descriptors whose
 * sizes add up to the image size.
 */
import { createHash } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export const LABEL_CREATED = 'org.opencontainers.image.created';
export const LABEL_REVISION = 'org.opencontainers.image.revision';
export const LABEL_SOURCE = 'org.opencontainers.image.source';
export const LABEL_VERSION = 'org.opencontainers.image.version';

export interface ImageBuild {
  readonly repository: string;
  readonly tag: string;
  /** When the image was built: the config's `created` and its created label. */
  readonly created: Date;
  /** The source commit the image was built from (40 hex digits). */
  readonly revision: string;
  /** The sum of the layers' compressed sizes, as ECR reports `imageSizeInBytes`. */
  readonly sizeBytes: number;
}

export interface BuiltImage {
  readonly digest: string;
  readonly manifest: string;
  readonly configDigest: string;
  readonly config: string;
  readonly layerDigests: readonly string[];
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** A commit hash for `repository:tag`: stable, so the same tag names the same source. */
export function revisionFor(repository: string, tag: string): string {
  return createHash('sha1').update(`${repository}@${tag}`).digest('hex');
}

/** Splits `total` bytes over three layers (base OS, runtime, app), as a typical service image. */
function layerSizes(total: number): number[] {
  const base = Math.floor(total * 0.34);
  const runtime = Math.floor(total * 0.51);
  return [base, runtime, total - base - runtime];
}

export function buildImage(build: ImageBuild): BuiltImage {
  const created = build.created.toISOString();
  const sizes = layerSizes(build.sizeBytes);
  const layerDigests = sizes.map((_, index) => sha256(`${build.repository}:${build.tag}:layer:${index}`));
  const diffIds = sizes.map((_, index) => sha256(`${build.repository}:${build.tag}:diff:${index}`));
  const config = JSON.stringify({
    created,
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: '10001',
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production'],
      Entrypoint: ['node'],
      Cmd: ['dist/server.js'],
      WorkingDir: '/app',
      ExposedPorts: { '8080/tcp': {} },
      Labels: {
        [LABEL_CREATED]: created,
        [LABEL_REVISION]: build.revision,
        [LABEL_SOURCE]: `https://github.com/${build.repository}`,
        [LABEL_VERSION]: build.tag,
      },
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [
      { created, created_by: 'ADD rootfs.tar.xz / # buildkit' },
      { created, created_by: 'RUN /bin/sh -c npm ci --omit=dev # buildkit' },
      { created, created_by: 'COPY dist/ /app/dist/ # buildkit' },
    ],
  });
  const configDigest = sha256(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: Buffer.byteLength(config) },
    layers: sizes.map((size, index) => ({ mediaType: OCI_LAYER, digest: layerDigests[index], size })),
  });
  return { digest: sha256(manifest), manifest, configDigest, config, layerDigests };
}
