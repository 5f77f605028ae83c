/**
 * secret-sync: EventBridge delivers Secrets Manager events (via CloudTrail) and a schedule; each
 * run renders the affected ExternalSecret files and queues them for the committer.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { sqsCommitQueue } from '../../shared/adapters/aws/commit-queue.js';
import { secretsManagerInventory } from '../../shared/adapters/aws/secrets-inventory.js';
import { runtimeConfig } from '../../shared/config/runtime.js';
import { ENV, requireEnv } from '../../shared/contracts/environment.js';
import { logger, observability } from '../../shared/observability/index.js';
import { parseSecretSyncEvent } from '../../shared/secret-sync/events.js';
import { type SecretSyncDeps, type SecretSyncResult, syncSecrets } from '../../shared/secret-sync/sync.js';

/** What the handler needs; `logger` defaults to the shared Powertools logger. */
export type SecretSyncHandlerDeps = Omit<SecretSyncDeps, 'logger'> & Partial<Pick<SecretSyncDeps, 'logger'>>;

/**
 * Builds the handler around its adapters. `deps` may be a function so the deployed handler reads
 * its config and environment on the first event rather than at import.
 */
export function createSecretSyncHandler(deps: SecretSyncHandlerDeps | (() => SecretSyncHandlerDeps)) {
  return middy(async (event: unknown): Promise<SecretSyncResult> => {
    const trigger = parseSecretSyncEvent(event);
    const resolved = typeof deps === 'function' ? deps() : deps;
    return syncSecrets(trigger, { logger, ...resolved });
  }).use(observability());
}

const secretsManager = new SecretsManagerClient({});
const sqs = new SQSClient({});
let deployed: SecretSyncHandlerDeps | undefined;

export const handler = createSecretSyncHandler(() => {
  deployed ??= {
    config: runtimeConfig(),
    inventory: secretsManagerInventory(secretsManager),
    queue: sqsCommitQueue(sqs, requireEnv(ENV.commitQueueUrl)),
  };
  return deployed;
});
