/**
 * What secret sync reads about secrets: metadata and the key names of a value, never the value.
 * Secrets Manager in AWS (shared/adapters/aws/secrets-inventory.ts).
 */
import type { SecretShape } from '../domain/external-secret.js';
import type { ListQuery, SecretMetadata } from '../domain/secret-selection.js';
import { TerminalError } from '../errors.js';

/** Shiplane may not read this secret: the function's policy or the secret's KMS key says no. */
export class SecretAccessDeniedError extends TerminalError {
  override name = 'SecretAccessDeniedError';
}

/** Secrets Manager failed in a way a retry may fix (throttling, a 5xx, the network). */
export class SecretsInventoryError extends Error {
  override name = 'SecretsInventoryError';
}

export interface SecretsInventory {
  /** Secrets passing the coarse filter, including those scheduled for deletion (`deletedAt`). */
  list(query: ListQuery): Promise<SecretMetadata[]>;
  /** Fresh metadata of one secret (ListSecrets may lag minutes behind); undefined when it is gone. */
  describe(secretId: string): Promise<SecretMetadata | undefined>;
  /** The layout of one version's value; undefined when the secret or version is gone or deleted. */
  shape(secret: { readonly arn: string; readonly versionId: string }): Promise<SecretShape | undefined>;
}
