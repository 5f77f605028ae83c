/**
 * A local AWS Secrets Manager: an HTTP server on 127.0.0.1 speaking the service's JSON 1.1
 * protocol (`POST /`, `X-Amz-Target: secretsmanager.<Operation>`), so the real
 * `SecretsManagerClient` with `endpoint` set runs unchanged against it. Each successful change
 * is also recorded as the CloudTrail event EventBridge would deliver, so a sandbox can feed the
 * secret-sync handler exactly what AWS would. Requests are not signature-checked.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BodyTooLargeError,
  parseJson,
  readBody,
  send as sendBody,
  startHttpServer,
} from '../../http/index.js';
import {
  type Caller,
  CloudTrailRecorder,
  type SecretsManagerEvent,
  type SecretsManagerEventListener,
} from './cloudtrail.js';
import { SecretsManagerError, SecretsStore, type SecretsStoreOptions } from './store.js';

export type { SecretsManagerEvent, SecretsManagerEventListener } from './cloudtrail.js';

type Json = Record<string, unknown>;

/** A secret to start with. An object value is stored as its JSON text. */
export interface SeedSecret {
  readonly name: string;
  readonly value: string | Readonly<Record<string, unknown>>;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SecretsManagerServerOptions extends SecretsStoreOptions {
  readonly secrets?: readonly SeedSecret[];
  /** @default 0 (any free port) */
  readonly port?: number;
}

export interface SecretsManagerServer {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to SecretsManagerClient. */
  readonly endpoint: string;
  readonly region: string;
  readonly store: SecretsStore;
  /** Every change so far, as CloudTrail-via-EventBridge events, oldest first. */
  readonly events: readonly SecretsManagerEvent[];
  /** Calls `listener` after each change (like an EventBridge rule); returns the unsubscribe. */
  onEvent(listener: SecretsManagerEventListener): () => void;
  /** Finishes a rotation with a new AWSCURRENT value and records RotationSucceeded. */
  rotate(secretId: string, value: string): SecretsManagerEvent;
  close(): Promise<void>;
}

const OPERATIONS: Record<string, (store: SecretsStore, input: Json) => Json> = {
  CreateSecret: (store, input) => store.createSecret(input),
  PutSecretValue: (store, input) => store.putSecretValue(input),
  UpdateSecret: (store, input) => store.updateSecret(input),
  DeleteSecret: (store, input) => store.deleteSecret(input),
  RestoreSecret: (store, input) => store.restoreSecret(input),
  TagResource: (store, input) => store.tagResource(input),
  UntagResource: (store, input) => store.untagResource(input),
  DescribeSecret: (store, input) => store.describeSecret(input),
  GetSecretValue: (store, input) => store.getSecretValue(input),
  ListSecrets: (store, input) => store.listSecrets(input),
};

const READ_ONLY = new Set(['DescribeSecret', 'GetSecretValue', 'ListSecrets']);

/** The operation an `X-Amz-Target: secretsmanager.<Operation>` header names, when the stand-in has it. */
function operationOf(request: IncomingMessage) {
  const target = String(request.headers['x-amz-target'] ?? '');
  const name = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
  return { target, name, run: Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined };
}

type InputRead =
  | { readonly ok: true; readonly input: Json }
  | { readonly ok: false; readonly status: number; readonly error: Json };

/** The operation's input: the JSON body (`{}` when empty), or the error AWS answers when it cannot be read. */
async function inputOf(request: IncomingMessage): Promise<InputRead> {
  try {
    return { ok: true, input: (parseJson(await readBody(request)) ?? {}) as Json };
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return {
        ok: false,
        status: 413,
        error: { __type: 'RequestEntityTooLargeException', message: error.message },
      };
    }
    return {
      ok: false,
      status: 400,
      error: { __type: 'SerializationException', message: 'The request body is not JSON' },
    };
  }
}

function send(response: ServerResponse, status: number, body: Json, requestId: string): void {
  const text = JSON.stringify(body);
  sendBody(response, status, text, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(status >= 400 ? { 'x-amzn-errortype': String(body.__type) } : {}),
  });
}

/** Starts the stand-in on 127.0.0.1, seeded with `options.secrets` (seeding records no events). */
export async function startSecretsManagerServer(
  options: SecretsManagerServerOptions = {},
): Promise<SecretsManagerServer> {
  const store = new SecretsStore(options);
  for (const seed of options.secrets ?? []) {
    store.createSecret({
      Name: seed.name,
      SecretString: typeof seed.value === 'string' ? seed.value : JSON.stringify(seed.value),
      ...(seed.description ? { Description: seed.description } : {}),
      Tags: Object.entries(seed.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    });
  }
  const trail = new CloudTrailRecorder(store, options.now ?? (() => new Date()));

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    const operation = operationOf(request);
    if (request.method !== 'POST' || !operation.run) {
      const message = `Unknown operation ${operation.target}`;
      send(response, 400, { __type: 'UnknownOperationException', message }, requestId);
      return;
    }
    const read = await inputOf(request);
    if (!read.ok) {
      send(response, read.status, read.error, requestId);
      return;
    }
    const { input } = read;
    try {
      const output = operation.run(store, input);
      send(response, 200, output, requestId);
      const caller: Caller = {
        sourceIPAddress: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? 'unknown',
      };
      if (!READ_ONLY.has(operation.name)) trail.apiCall(operation.name, input, output, caller, requestId);
    } catch (error) {
      if (error instanceof SecretsManagerError) {
        send(response, 400, { __type: error.type, message: error.message }, requestId);
      } else {
        send(response, 500, { __type: 'InternalServiceError', message: (error as Error).message }, requestId);
      }
    }
  };

  const http = await startHttpServer({ handle, port: options.port });

  return {
    endpoint: http.url,
    region: store.region,
    store,
    events: trail.events,
    onEvent: (listener) => trail.onEvent(listener),
    rotate(secretId, value) {
      const output = store.rotate(secretId, { secretString: value });
      return trail.rotationSucceeded(output.ARN);
    },
    close: () => http.close(),
  };
}

/** Client settings for the stand-in: its endpoint and region, and throwaway credentials. */
export function localClientConfig(server: Pick<SecretsManagerServer, 'endpoint' | 'region'>) {
  return {
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}
