/**
 * What secret sync reads from Secrets Manager: secret metadata (ListSecrets, DescribeSecret) and
 * the key names of a JSON secret (GetSecretValue). The value is parsed inside `shape` and dropped
 * there; it is never returned, logged, cached or put into an error (JSON.parse messages quote
 * their input, so they are discarded too).
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  type Filter,
  GetSecretValueCommand,
  paginateListSecrets,
  type SecretListEntry,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import type { SecretShape } from '../../domain/external-secret.js';
import type { ListQuery, SecretMetadata } from '../../domain/secret-selection.js';
import {
  SecretAccessDeniedError,
  type SecretsInventory,
  SecretsInventoryError,
} from '../../ports/secrets-inventory.js';

export interface SecretsInventoryOptions {
  /** ListSecrets page size (1–100). @default 100 */
  readonly pageSize?: number;
}

/** Filter values must match ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$; other values are left to `selects`. */
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.\-!]{1,512}$/;

function filtersFor(query: ListQuery): Filter[] {
  const filters: Filter[] = [];
  if (query.namePrefix && FILTER_VALUE.test(query.namePrefix) && !query.namePrefix.startsWith('!')) {
    filters.push({ Key: 'name', Values: [query.namePrefix] });
  }
  const keys = query.tags
    .map((tag) => tag.key)
    .filter((key) => FILTER_VALUE.test(key) && !key.startsWith('!'));
  const values = query.tags
    .map((tag) => tag.value)
    .filter((value) => FILTER_VALUE.test(value) && !value.startsWith('!'));
  if (keys.length > 0) filters.push({ Key: 'tag-key', Values: keys.slice(0, 10) });
  if (values.length > 0) filters.push({ Key: 'tag-value', Values: values.slice(0, 10) });
  return filters;
}

const tagsOf = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (tags ?? []).flatMap((tag) => (tag.Key === undefined ? [] : [[tag.Key, tag.Value ?? '']])),
  );

const currentVersion = (stages: Record<string, string[]> | undefined) =>
  Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];

function metadataOf(
  entry: Pick<SecretListEntry, 'Name' | 'ARN' | 'Tags' | 'LastChangedDate' | 'DeletedDate'>,
  versions: Record<string, string[]> | undefined,
): SecretMetadata | undefined {
  if (!entry.Name || !entry.ARN) return undefined;
  return {
    name: entry.Name,
    arn: entry.ARN,
    tags: tagsOf(entry.Tags),
    currentVersionId: currentVersion(versions),
    lastChangedAt: entry.LastChangedDate,
    deletedAt: entry.DeletedDate,
  };
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'UnknownError');

/**
 * A named error for a failed call. `keepCause: false` for GetSecretValue: an SDK error can carry
 * the raw response (the value), so only its name travels on.
 */
function translate(error: unknown, what: string, keepCause = true): Error {
  const name = errorName(error);
  const cause = keepCause ? { cause: error } : undefined;
  if (name === 'AccessDeniedException' || name === 'DecryptionFailure') {
    return new SecretAccessDeniedError(
      `Secrets Manager refused to ${what} (${name}); check the function's IAM policy and the secret's KMS key`,
      cause,
    );
  }
  return new SecretsInventoryError(`cannot ${what}: ${name}`, cause);
}

/** Gone, or scheduled for deletion: both mean "no manifest". */
const isGone = (error: unknown) => {
  const name = errorName(error);
  return name === 'ResourceNotFoundException' || name === 'InvalidRequestException';
};

/** Reads the shape of a secret value and forgets the value. Exported for tests of the no-leak rule. */
export function shapeOf(value: {
  SecretString?: string | undefined;
  SecretBinary?: Uint8Array | undefined;
}): SecretShape {
  if (typeof value.SecretString !== 'string') return { kind: 'plain' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.SecretString);
  } catch {
    // The parser's message quotes the value: it must not travel anywhere.
    return { kind: 'plain' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'plain' };
  const keys = Object.keys(parsed);
  return keys.length > 0 ? { kind: 'json', keys } : { kind: 'plain' };
}

export function secretsManagerInventory(
  client: SecretsManagerClient,
  options: SecretsInventoryOptions = {},
): SecretsInventory {
  const pageSize = options.pageSize ?? 100;
  // Key names only change with a new version, so a warm function reads each version once.
  const shapes = new Map<string, SecretShape>();
  return {
    async list(query) {
      const filters = filtersFor(query);
      const out: SecretMetadata[] = [];
      try {
        for await (const page of paginateListSecrets(
          { client, pageSize },
          { IncludePlannedDeletion: true, ...(filters.length > 0 ? { Filters: filters } : {}) },
        )) {
          for (const entry of page.SecretList ?? []) {
            const metadata = metadataOf(entry, entry.SecretVersionsToStages);
            if (metadata) out.push(metadata);
          }
        }
      } catch (error) {
        throw translate(error, 'list secrets');
      }
      return out;
    },

    async describe(secretId) {
      let output: DescribeSecretCommandOutput;
      try {
        output = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return undefined;
        throw translate(error, `describe secret ${secretId}`);
      }
      return metadataOf(output, output.VersionIdsToStages);
    },

    async shape(secret) {
      const cacheKey = `${secret.arn}#${secret.versionId}`;
      const cached = shapes.get(cacheKey);
      if (cached) return cached;
      let shape: SecretShape;
      try {
        const output = await client.send(
          new GetSecretValueCommand({ SecretId: secret.arn, VersionId: secret.versionId }),
        );
        shape = shapeOf(output);
      } catch (error) {
        if (isGone(error)) return undefined;
        throw translate(error, `read the key names of ${secret.arn}`, false);
      }
      shapes.set(cacheKey, shape);
      return shape;
    },
  };
}
