/**
 * A local Amazon ECR: an HTTP server on 127.0.0.1 speaking the service's JSON 1.1 protocol
 * (`POST /`, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`), so the real
 * `ECRClient` with `endpoint` set runs unchanged against it. It holds the images the sandbox pushes
 * and answers DescribeImages, DescribeImageScanFindings, BatchGetImage and GetDownloadUrlForLayer;
 * the download URL it gives is its own `GET /blobs/<repository>/<digest>` (an S3 presigned URL in
 * AWS), serving the image config. Requests are not signature-checked.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BodyTooLargeError,
  parseJson,
  pathOf,
  readBody,
  send as sendBody,
  startHttpServer,
  urlOf,
} from '../../http/index.js';
import {
  EcrError,
  EcrRegistry,
  type EcrRegistryOptions,
  type ImagePushRecord,
  type StoredImage,
} from './registry.js';
import { ecrImageScanEvent } from './scan-event.js';

export { EcrError, type EcrRegistryOptions, type ImagePushRecord, type StoredImage } from './registry.js';

type Json = Record<string, unknown>;

/** The target prefix of ECR's API (its Smithy service name and version). */
export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

export interface EcrServerOptions extends EcrRegistryOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
}

export interface EcrServer {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to ECRClient. */
  readonly endpoint: string;
  readonly region: string;
  /** The registry id (the account). */
  readonly registryId: string;
  readonly registry: EcrRegistry;
  /** Records a push (see EcrRegistry.push): the image `repository:tag` now names. */
  push(record: ImagePushRecord): StoredImage;
  /**
   * Calls `listener` with the `ECR Image Scan` event of each scan on push when it completes, as
   * EventBridge would deliver it. Returns the unsubscribe.
   */
  onScanEvent(listener: (event: Json) => void): () => void;
  close(): Promise<void>;
}

const OPERATIONS: Record<string, (registry: EcrRegistry, input: Json, endpoint: string) => Json> = {
  DescribeImages: (registry, input) => registry.describeImages(input),
  DescribeImageScanFindings: (registry, input) => registry.describeImageScanFindings(input),
  BatchGetImage: (registry, input) => registry.batchGetImage(input),
  GetDownloadUrlForLayer: (registry, input, endpoint) => registry.getDownloadUrlForLayer(input, endpoint),
};

function send(response: ServerResponse, status: number, body: Json, requestId: string): void {
  const text = JSON.stringify(body);
  sendBody(response, status, text, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(status >= 400 ? { 'x-amzn-errortype': String(body.__type) } : {}),
  });
}

/** The operation's input: the JSON body (`{}` when empty), or the error AWS answers. */
async function inputOf(request: IncomingMessage): Promise<Json> {
  let body: unknown;
  try {
    body = parseJson(await readBody(request)) ?? {};
  } catch (error) {
    if (error instanceof BodyTooLargeError)
      throw new EcrError('RequestEntityTooLargeException', error.message, 413);
    throw new EcrError('SerializationException', 'The request body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new EcrError('SerializationException', 'The request body is not a JSON object');
  }
  return body as Json;
}

/** Starts the stand-in on 127.0.0.1 with the repositories of `options`, holding no images yet. */
export async function startEcrServer(options: EcrServerOptions): Promise<EcrServer> {
  const registry = new EcrRegistry(options);
  let endpoint = '';

  const api = async (request: IncomingMessage, response: ServerResponse, requestId: string) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const name = target.startsWith(ECR_TARGET_PREFIX) ? target.slice(ECR_TARGET_PREFIX.length) : '';
    const run = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
    if (!run) {
      // What an AWS JSON service answers for a target it does not have.
      send(
        response,
        400,
        { __type: 'UnknownOperationException', message: `Unknown operation ${target}` },
        requestId,
      );
      return;
    }
    send(response, 200, run(registry, await inputOf(request), endpoint), requestId);
  };

  /** The layer download URL: the config blob, as S3 would serve it. */
  const blob = (request: IncomingMessage, response: ServerResponse) => {
    const path = pathOf(urlOf(request));
    const found = /^\/blobs\/(.+)\/(sha256:[0-9a-f]{64})$/.exec(path);
    const content = found ? registry.blob(found[1] ?? '', found[2] ?? '') : undefined;
    if (content === undefined) {
      sendBody(response, 404, 'NoSuchKey: The specified key does not exist.', {
        'content-type': 'text/plain; charset=utf-8',
      });
      return;
    }
    sendBody(response, 200, content, {
      'content-type': 'application/octet-stream',
      'content-length': Buffer.byteLength(content),
      etag: `"${found?.[2]?.slice('sha256:'.length, 'sha256:'.length + 32)}"`,
    });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    try {
      if (request.method === 'GET' && pathOf(urlOf(request)).startsWith('/blobs/')) {
        blob(request, response);
        return;
      }
      if (request.method !== 'POST') {
        send(
          response,
          400,
          { __type: 'UnknownOperationException', message: `Unknown operation ${request.method}` },
          requestId,
        );
        return;
      }
      await api(request, response, requestId);
    } catch (error) {
      if (error instanceof EcrError) {
        send(response, error.status, { __type: error.type, message: error.message }, requestId);
      } else {
        send(response, 500, { __type: 'ServerException', message: (error as Error).message }, requestId);
      }
    }
  };

  const http = await startHttpServer({ handle, port: options.port });
  endpoint = http.url;

  // A scan on push ends at the image's scannedAt; its event goes out then (once per image).
  const listeners = new Set<(event: Json) => void>();
  const scans = new Map<string, NodeJS.Timeout>();
  const push = (record: ImagePushRecord) => {
    const image = registry.push(record);
    const key = `${image.repository}@${image.digest}`;
    const { scannedAt } = image;
    if (scannedAt && !scans.has(key)) {
      const timer = setTimeout(
        () => {
          const event = ecrImageScanEvent(image, {
            accountId: registry.accountId,
            region: registry.region,
            at: scannedAt,
          });
          for (const listener of listeners) listener(event);
        },
        Math.max(0, scannedAt.getTime() - Date.now()),
      );
      timer.unref();
      scans.set(key, timer);
    }
    return image;
  };

  return {
    endpoint: http.url,
    region: registry.region,
    registryId: registry.accountId,
    registry,
    push,
    onScanEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => {
      for (const timer of scans.values()) clearTimeout(timer);
      listeners.clear();
      return http.close();
    },
  };
}

/** Client settings for the stand-in: its endpoint and region, and throwaway credentials. */
export function ecrClientConfig(server: Pick<EcrServer, 'endpoint' | 'region'>) {
  return {
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}
