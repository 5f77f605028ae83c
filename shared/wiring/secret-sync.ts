/**
 * secret-sync's dependencies, for Lambda and for local runs alike: the config, Secrets Manager's
 * inventory, and the commit queue. Only where Secrets Manager and the queue live differs.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { secretsManagerInventory } from '../adapters/aws/secrets-inventory.js';
import { sqsCommitQueue } from '../adapters/aws/sqs-commit-queue.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import type { CommitQueue } from '../ports/commit-queue.js';
import type { SecretSyncDeps } from '../steps/secret-sync/sync.js';
import { logger } from './lambda.js';

/** What the handler needs; `logger` defaults to the shared Powertools logger. */
export type SecretSyncHandlerDeps = Omit<SecretSyncDeps, 'logger'> & Partial<Pick<SecretSyncDeps, 'logger'>>;

/** What differs between Lambda and a local run. */
export interface SecretSyncPlatform {
  readonly config: Config;
  /** Secrets Manager: the real one, or a local stand-in at its endpoint. */
  readonly secretsManager: SecretsManagerClient;
  /** The commit queue: SQS, or the local committer. */
  readonly queue: CommitQueue;
}

export function secretSyncDeps(platform: SecretSyncPlatform): SecretSyncHandlerDeps {
  return {
    config: platform.config,
    inventory: secretsManagerInventory(platform.secretsManager),
    queue: platform.queue,
    logger,
  };
}

/**
 * Lambda: the config from SHIPLANE_CONFIG and the queue from COMMIT_QUEUE_URL, read on the first
 * event and kept while the environment is warm.
 */
export function deployedSecretSync(env: NodeJS.ProcessEnv = process.env): () => SecretSyncHandlerDeps {
  let deployed: SecretSyncHandlerDeps | undefined;
  return () => {
    deployed ??= secretSyncDeps({
      // Secret sync never reads tag patterns: the intake checks those with RE2.
      config: runtimeConfig(parseConfigShape, env),
      secretsManager: new SecretsManagerClient({}),
      queue: sqsCommitQueue(new SQSClient({}), requireEnv(ENV.commitQueueUrl, env)),
    });
    return deployed;
  };
}
