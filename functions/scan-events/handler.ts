/**
 * scan-events: the scan gate's wake-up. Two callers:
 * - the state machine's `Wait for the scan` (lambda:invoke.waitForTaskToken, `action: wait-for-scan`):
 *   records the run's task token under its image, then the run waits one poll interval at most;
 * - EventBridge, with `ECR Image Scan` and `Inspector2 Scan` events of the gated repositories: answers
 *   the runs waiting for that image, which then read the findings through the scan gate's check.
 * An event it does not act on (malformed, foreign, a scan still going) is logged and counted, and
 * nothing is sent.
 */
import { parseInput } from '../../shared/contracts/parse.js';
import { type ScanWaitRecorded, scanWaitInputSchema } from '../../shared/contracts/scan-events.js';
import {
  recordScanWait,
  type ScanWakeDeps,
  type ScanWakeResult,
  wakeScanWaiters,
} from '../../shared/steps/scan-gate/wake.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler, logger } from '../../shared/wiring/lambda.js';
import { deployedScanEvents } from '../../shared/wiring/scan-events.js';

const isWaitRequest = (event: unknown) => typeof event === 'object' && event !== null && 'action' in event;

/** Builds the handler around its dependencies (shared/wiring/scan-events.ts builds them). */
export function createScanEventsHandler(deps: DepsSource<ScanWakeDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<ScanWaitRecorded | ScanWakeResult> => {
    if (isWaitRequest(event)) {
      const input = parseInput(scanWaitInputSchema, event, 'scan wait input');
      logger.appendKeys({ execution: input.execution, app: input.app });
      return recordScanWait(input, await resolve());
    }
    return wakeScanWaiters(event, await resolve());
  });
}

/** The deployed handler: the config from SHIPLANE_CONFIG, the scan waits table, Step Functions. */
export const handler = createScanEventsHandler(deployedScanEvents());
