/**
 * A local AWS Secrets Manager: an HTTP server on 127.0.0.1 speaking the service's JSON 1.1
 * protocol (`POST /`, `X-Amz-Target: secretsmanager.<Operation>`), so the real
 * `SecretsManagerClient` with `endpoint` set runs unchanged against it. Each successful change
 * is also recorded as the CloudTrail event EventBridge would deliver, so a sandbox can feed the
 * secret-sync handler exactly what AWS would. Requests are not signature-checked.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerError, SecretsStore, type SecretsStoreOptions } from './store.js';

type Json = Record<string, unknown>;

/** An EventBridge event carrying a CloudTrail record, as the secret-sync rule receives it. */
export interface SecretsManagerEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'AWS API Call via CloudTrail' | 'AWS Service Event via CloudTrail';
  readonly source: 'aws.secretsmanager';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Json;
}

export type SecretsManagerEventListener = (event: SecretsManagerEvent) => void | Promise<void>;

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
/** CloudTrail never records secret values. */
const UNLOGGED = new Set(['SecretString', 'SecretBinary']);

const camel = (key: string) => key.charAt(0).toLowerCase() + key.slice(1);

/** API fields as CloudTrail writes them: camelCase keys, tags as {key, value}, no values. */
function cloudTrailShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloudTrailShape);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !UNLOGGED.has(key))
      .map(([key, inner]) => [camel(key), cloudTrailShape(inner)]),
  );
}

/** CloudTrail writes DeleteSecret's deletionDate the Java way: `Nov 27, 2025, 9:14:03 AM`. */
const javaDate = (epochSeconds: number) =>
  new Intl.DateTimeFormat('en-US', {
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
    hour12: true,
    timeZone: 'UTC',
  }).format(new Date(epochSeconds * 1000));

const isoSeconds = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: Json, requestId: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(status >= 400 ? { 'x-amzn-errortype': String(body.__type) } : {}),
  });
  response.end(text);
}

/** Starts the stand-in on 127.0.0.1, seeded with `options.secrets` (seeding records no events). */
export async function startSecretsManagerServer(
  options: SecretsManagerServerOptions = {},
): Promise<SecretsManagerServer> {
  const store = new SecretsStore(options);
  const now = options.now ?? (() => new Date());
  for (const seed of options.secrets ?? []) {
    store.createSecret({
      Name: seed.name,
      SecretString: typeof seed.value === 'string' ? seed.value : JSON.stringify(seed.value),
      ...(seed.description ? { Description: seed.description } : {}),
      Tags: Object.entries(seed.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    });
  }

  const events: SecretsManagerEvent[] = [];
  const listeners = new Set<SecretsManagerEventListener>();

  const publish = (event: SecretsManagerEvent) => {
    events.push(event);
    for (const listener of listeners) {
      // EventBridge delivers asynchronously; a failing target does not fail the API call.
      Promise.resolve()
        .then(() => listener(event))
        .catch((error: unknown) => {
          console.error(
            `secrets-manager-server: event listener failed: ${(error as Error).name}: ${(error as Error).message}`,
          );
        });
    }
  };

  const envelope = (detailType: SecretsManagerEvent['detail-type'], detail: Json): SecretsManagerEvent => {
    const time = isoSeconds(now());
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source: 'aws.secretsmanager',
      account: store.accountId,
      time,
      region: store.region,
      resources: [],
      detail: {
        eventVersion: '1.11',
        eventTime: time,
        eventSource: 'secretsmanager.amazonaws.com',
        awsRegion: store.region,
        eventID: randomUUID(),
        readOnly: false,
        managementEvent: true,
        recipientAccountId: store.accountId,
        eventCategory: 'Management',
        ...detail,
      },
    };
  };

  const recordCall = (
    operation: string,
    input: Json,
    output: Json,
    request: IncomingMessage,
    requestId: string,
  ) => {
    const response = cloudTrailShape(output) as Json;
    if (typeof output.DeletionDate === 'number') response.deletionDate = javaDate(output.DeletionDate);
    const tagging = operation === 'TagResource' || operation === 'UntagResource';
    publish(
      envelope('AWS API Call via CloudTrail', {
        eventName: operation,
        userIdentity: {
          type: 'AssumedRole',
          principalId: 'AROALOCALSANDBOX:shiplane',
          arn: `arn:aws:sts::${store.accountId}:assumed-role/ShiplaneSandbox/shiplane`,
          accountId: store.accountId,
        },
        sourceIPAddress: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? 'unknown',
        requestParameters: cloudTrailShape(input),
        responseElements: tagging ? null : response,
        requestID: requestId,
        eventType: 'AwsApiCall',
      }),
    );
  };

  const server = createServer(async (request, response) => {
    const requestId = randomUUID();
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
    const run = OPERATIONS[operation];
    if (request.method !== 'POST' || !run) {
      send(
        response,
        400,
        { __type: 'UnknownOperationException', message: `Unknown operation ${target}` },
        requestId,
      );
      return;
    }
    let input: Json;
    try {
      const text = await readBody(request);
      input = text ? (JSON.parse(text) as Json) : {};
    } catch {
      send(
        response,
        400,
        { __type: 'SerializationException', message: 'The request body is not JSON' },
        requestId,
      );
      return;
    }
    try {
      const output = run(store, input);
      send(response, 200, output, requestId);
      if (!READ_ONLY.has(operation)) recordCall(operation, input, output, request, requestId);
    } catch (error) {
      if (error instanceof SecretsManagerError) {
        send(response, 400, { __type: error.type, message: error.message }, requestId);
      } else {
        send(response, 500, { __type: 'InternalServiceError', message: (error as Error).message }, requestId);
      }
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: store.region,
    store,
    events,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    rotate(secretId, value) {
      const output = store.rotate(secretId, { secretString: value });
      const event = envelope('AWS Service Event via CloudTrail', {
        eventName: 'RotationSucceeded',
        userIdentity: { accountId: store.accountId, invokedBy: 'secretsmanager.amazonaws.com' },
        sourceIPAddress: 'secretsmanager.amazonaws.com',
        userAgent: 'secretsmanager.amazonaws.com',
        requestParameters: null,
        responseElements: null,
        additionalEventData: { SecretId: output.ARN },
        requestID: `Rotation-${String(output.ARN)}-${randomUUID()}`,
        eventType: 'AwsServiceEvent',
      });
      publish(event);
      return event;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
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
