/**
 * secret-sync: EventBridge delivers Secrets Manager events (via CloudTrail) and a schedule; each
 * run renders the affected ExternalSecret files and queues them for the committer.
 */
import { parseSecretSyncEvent } from '../../shared/steps/secret-sync/events.js';
import { type SecretSyncResult, syncSecrets } from '../../shared/steps/secret-sync/sync.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';
import { deployedSecretSync, type SecretSyncHandlerDeps } from '../../shared/wiring/secret-sync.js';

export type { SecretSyncHandlerDeps };

/**
 * Builds the handler around its dependencies (shared/wiring/secret-sync.ts builds them). `deps` may
 * be a function so the deployed handler reads its config and environment on the first event.
 */
export function createSecretSyncHandler(deps: SecretSyncHandlerDeps | (() => SecretSyncHandlerDeps)) {
  return lambdaHandler(async (event: unknown): Promise<SecretSyncResult> => {
    const trigger = parseSecretSyncEvent(event);
    const resolved = typeof deps === 'function' ? deps() : deps;
    return syncSecrets(trigger, { logger, ...resolved });
  });
}

/** The deployed handler: config from SHIPLANE_CONFIG, the commit queue from COMMIT_QUEUE_URL. */
export const handler = createSecretSyncHandler(deployedSecretSync());
