/**
 * notify: one event of a release into its Slack thread (parent message updated in place, a reply
 * per event) and, for failures, degraded health, timeouts and expiry, the SNS alert topic. It never
 * fails a run for Slack or SNS; only a malformed notification is an error. It also answers the freeze
 * check, which does fail the run when it cannot tell (see steps/notify/freeze-check.ts).
 */
import { type FreezeStatus, freezeCheckSchema } from '../../shared/contracts/freeze.js';
import { parseInput } from '../../shared/contracts/parse.js';
import { type NotificationResult, notificationSchema } from '../../shared/contracts/tasks.js';
import { checkFreeze } from '../../shared/steps/notify/freeze-check.js';
import { type NotifyDeps, notify } from '../../shared/steps/notify/notify.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';
import { deployedNotify } from '../../shared/wiring/notify.js';

/** The freeze check (`<Stage> · Check freeze`) shares this function: it posts in the same thread. */
function isFreezeCheck(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { check?: unknown }).check === 'freeze';
}

/** Builds the handler around its dependencies (shared/wiring/notify.ts builds them). */
export function createNotifyHandler(deps: DepsSource<NotifyDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<NotificationResult | FreezeStatus> => {
    if (isFreezeCheck(event)) {
      const check = parseInput(freezeCheckSchema, event, 'freeze check');
      logger.appendKeys({ execution: check.execution, check: 'freeze', stage: check.stage });
      return checkFreeze(check, await resolve());
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
