/**
 * Resolves the config's secret references. `secret:NAME` reads Secrets Manager through Powertools
 * Parameters (cached for five minutes, so a warm Lambda does not call Secrets Manager per event);
 * `env:VAR` reads an environment variable, for local runs. Values are returned, never logged.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { formatSecretRef, type SecretRef } from '../../config/secret-ref.js';
import { TerminalError } from '../../errors.js';

export class SecretUnavailableError extends TerminalError {
  override name = 'SecretUnavailableError';
}

export type SecretResolver = (ref: SecretRef) => Promise<string>;

export interface SecretResolverOptions {
  /** A client of your own (a local endpoint, a mocked client in tests). */
  readonly client?: SecretsManagerClient;
  /** Where `env:` references are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Cache lifetime in seconds. @default 300 */
  readonly maxAge?: number;
}

export function createSecretResolver(options: SecretResolverOptions = {}): SecretResolver {
  const env = options.env ?? process.env;
  const maxAge = options.maxAge ?? 300;
  let provider: SecretsProvider | undefined;
  return async (ref) => {
    if (ref.source === 'env') {
      const value = env[ref.name];
      if (value === undefined || value === '') {
        throw new SecretUnavailableError(`${formatSecretRef(ref)} is not set in the environment`);
      }
      return value;
    }
    provider ??= new SecretsProvider(options.client ? { awsSdkV3Client: options.client } : {});
    let value: unknown;
    try {
      value = await provider.get(ref.name, { maxAge });
    } catch (error) {
      throw new SecretUnavailableError(
        `cannot read ${formatSecretRef(ref)} from Secrets Manager (check it exists and the function may read it): ${(error as Error).name}`,
        { cause: error },
      );
    }
    if (typeof value !== 'string' || value === '') {
      throw new SecretUnavailableError(`${formatSecretRef(ref)} has no string value`);
    }
    return value;
  };
}
