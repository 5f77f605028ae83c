/**
 * notify: one event of a release into its Slack thread (parent message updated in place, a reply
 * per event) and, for failures, degraded health, timeouts and expiry, the SNS alert topic. It never
 * fails a run for Slack or SNS; only a malformed notification is an error.
 */
import { parseInput } from '../../shared/contracts/parse.js';
import { type NotificationResult, notificationSchema } from '../../shared/contracts/tasks.js';
import { type NotifyDeps, notify } from '../../shared/steps/notify/notify.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';
import { deployedNotify } from '../../shared/wiring/notify.js';

/**
 * A freeze check sent here by a run started before the check moved to its own function
 * (functions/freeze-check): this function can no longer tell, so the run fails closed, alerted.
 */
function isFreezeCheck(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { check?: unknown }).check === 'freeze';
}

/** Builds the handler around its dependencies (shared/wiring/notify.ts builds them). */
export function createNotifyHandler(deps: DepsSource<NotifyDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<NotificationResult> => {
    if (isFreezeCheck(event)) {
      throw new Error(
        'notify no longer answers freeze checks (the freeze-check function does, since this run started): start the release again with shiplane retry',
      );
    }
    const notification = parseInput(notificationSchema, event, 'notification');
    logger.appendKeys({
      execution: notification.execution,
      event: notification.event,
      ...(notification.stage ? { stage: notification.stage } : {}),
    });
    return notify(notification, await resolve());
  });
}

/** The deployed handler: table and topic from the environment, Slack from SHIPLANE_CONFIG. */
export const handler = createNotifyHandler(deployedNotify());
