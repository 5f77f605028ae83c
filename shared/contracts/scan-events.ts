/**
 * The wire shapes of the scan gate's wake-up (functions/scan-events): the `Wait for the scan` task's
 * input (the run hands over its task token while the scan is pending), and the two EventBridge
 * events that say a scan finished — ECR's `ECR Image Scan` (basic scanning) and Amazon Inspector's
 * `Inspector2 Scan` (enhanced scanning). Field names are AWS's, as the documentation's samples show
 * them (test/fixtures/ecr/scan-events.ts); fields Shiplane does not read are let through.
 */
import { IMAGE_DIGEST } from './tasks.js';
import * as z from './zod.js';

const nonEmpty = z.string().check(z.minLength(1));
const digest = z.string().check(z.regex(IMAGE_DIGEST, 'expected an image digest sha256:<64 hex>'));

/** Input of `Wait for the scan` (lambda:invoke.waitForTaskToken): who waits for which image's scan. */
export const scanWaitInputSchema = z.strictObject({
  action: z.literal('wait-for-scan'),
  taskToken: nonEmpty,
  execution: nonEmpty,
  app: nonEmpty,
  ecrRepository: nonEmpty,
  digest,
});
export type ScanWaitInput = z.infer<typeof scanWaitInputSchema>;

/** What the function answers the state machine when it recorded the wait (the task then waits on). */
export interface ScanWaitRecorded {
  readonly waiting: true;
  /** When the record may be deleted (ISO); the task itself times out long before. */
  readonly expiresAt: string;
}

/** What a waiting run's token is answered with. The run discards it: it reads the findings itself. */
export interface ScanWakeUp {
  readonly wokenBy: 'ECR Image Scan' | 'Inspector2 Scan';
  readonly scanStatus: string;
  readonly eventId: string;
}

const counts = z.record(z.string(), z.number());

/** `source: aws.ecr`, `detail-type: ECR Image Scan`: a basic scan finished (COMPLETE) or failed (FAILED). */
export const ecrImageScanEventSchema = z.looseObject({
  id: nonEmpty,
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Scan'),
  account: nonEmpty,
  region: nonEmpty,
  time: nonEmpty,
  detail: z.looseObject({
    'scan-status': nonEmpty,
    /** The repository's name (`itdo-erp/backend`). */
    'repository-name': nonEmpty,
    'image-digest': digest,
    'image-tags': z.optional(z.array(z.string())),
    'finding-severity-counts': z.optional(counts),
  }),
});
export type EcrImageScanEvent = z.infer<typeof ecrImageScanEventSchema>;

/**
 * `source: aws.inspector2`, `detail-type: Inspector2 Scan`: Amazon Inspector finished its initial
 * scan of a resource (`scan-status: INITIAL_SCAN_COMPLETE`). For an ECR image `repository-name` is the
 * repository's ARN, not its name; an EC2 instance's scan has no image fields at all.
 */
export const inspector2ScanEventSchema = z.looseObject({
  id: nonEmpty,
  source: z.literal('aws.inspector2'),
  'detail-type': z.literal('Inspector2 Scan'),
  account: nonEmpty,
  region: nonEmpty,
  time: nonEmpty,
  detail: z.looseObject({
    'scan-status': nonEmpty,
    'repository-name': nonEmpty,
    'image-digest': digest,
    'image-tags': z.optional(z.array(z.string())),
    'finding-severity-counts': z.optional(counts),
  }),
});
export type Inspector2ScanEvent = z.infer<typeof inspector2ScanEventSchema>;

/** The scan statuses that end a scan: the run is worth waking (the check then reads the verdict). */
export const ECR_SCAN_DONE = ['COMPLETE', 'FAILED'] as const;
export const INSPECTOR_SCAN_DONE = ['INITIAL_SCAN_COMPLETE'] as const;
