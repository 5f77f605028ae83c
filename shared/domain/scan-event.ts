/**
 * What an EventBridge event means for the runs waiting at a scan gate: wake the runs waiting for
 * this image's scan (a scan of one of the gated repositories ended), or nothing (another detail
 * type, a scan still going, another repository, an EC2 instance's scan, a malformed event).
 *
 * The event only wakes a run; it never decides anything. The woken run reads the findings itself
 * (DescribeImageScanFindings, through the scan gate's check), so the verdict comes from the
 * registry's API. `aws.*` sources cannot be sent with PutEvents by anyone, but a wake-up that
 * carried the verdict would still trust the counts of an event over the findings of the API.
 */
import {
  ECR_SCAN_DONE,
  ecrImageScanEventSchema,
  INSPECTOR_SCAN_DONE,
  inspector2ScanEventSchema,
  type ScanWakeUp,
} from '../contracts/scan-events.js';
import * as z from '../contracts/zod.js';

export type ScanEventMeaning =
  | {
      readonly kind: 'wake';
      readonly repository: string;
      readonly digest: string;
      readonly wakeUp: ScanWakeUp;
    }
  | { readonly kind: 'ignored'; readonly reason: string };

/** `arn:aws:ecr:eu-west-1:123456789012:repository/itdo-erp/backend` → `itdo-erp/backend`; a name stays a name. */
export function repositoryNameOf(nameOrArn: string): string {
  const match = /^arn:aws[a-z-]*:ecr:[^:]*:\d{12}:repository\/(.+)$/.exec(nameOrArn);
  return match ? match[1]! : nameOrArn;
}

const issues = (error: z.core.$ZodError) =>
  error.issues
    .map((issue) => `${issue.path.map(String).join('.') || '(event)'}: ${issue.message}`)
    .join('; ');

/**
 * Reads `event` against the repositories whose apps have a scan gate. Never throws: an event
 * Shiplane does not act on is `ignored`, with the reason for the log.
 */
export function scanEventMeaning(event: unknown, gatedRepositories: readonly string[]): ScanEventMeaning {
  const envelope = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const kind = `${String(envelope.source)} / ${String(envelope['detail-type'])}`;
  let parsed:
    | { wokenBy: ScanWakeUp['wokenBy']; id: string; status: string; repository: string; digest: string }
    | undefined;
  let done: readonly string[];
  if (envelope.source === 'aws.ecr' && envelope['detail-type'] === 'ECR Image Scan') {
    const result = z.safeParse(ecrImageScanEventSchema, event);
    if (!result.success)
      return { kind: 'ignored', reason: `malformed ECR Image Scan event: ${issues(result.error)}` };
    const { detail } = result.data;
    parsed = {
      wokenBy: 'ECR Image Scan',
      id: result.data.id,
      status: detail['scan-status'],
      repository: detail['repository-name'],
      digest: detail['image-digest'],
    };
    done = ECR_SCAN_DONE;
  } else if (envelope.source === 'aws.inspector2' && envelope['detail-type'] === 'Inspector2 Scan') {
    const result = z.safeParse(inspector2ScanEventSchema, event);
    if (!result.success) {
      return {
        kind: 'ignored',
        reason: `malformed Inspector2 Scan event (or not an ECR image's): ${issues(result.error)}`,
      };
    }
    const { detail } = result.data;
    parsed = {
      wokenBy: 'Inspector2 Scan',
      id: result.data.id,
      status: detail['scan-status'],
      repository: repositoryNameOf(detail['repository-name']),
      digest: detail['image-digest'],
    };
    done = INSPECTOR_SCAN_DONE;
  } else {
    return { kind: 'ignored', reason: `not an ECR Image Scan or Inspector2 Scan event (${kind})` };
  }
  if (!done.includes(parsed.status)) {
    return {
      kind: 'ignored',
      reason: `${parsed.wokenBy} with scan-status ${parsed.status}: the scan has not ended`,
    };
  }
  if (!gatedRepositories.includes(parsed.repository)) {
    return {
      kind: 'ignored',
      reason: `${parsed.wokenBy} for ${parsed.repository}, which no app with a scan gate uses`,
    };
  }
  return {
    kind: 'wake',
    repository: parsed.repository,
    digest: parsed.digest,
    wakeUp: { wokenBy: parsed.wokenBy, scanStatus: parsed.status, eventId: parsed.id },
  };
}
