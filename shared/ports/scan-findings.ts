/**
 * Where the scan gate reads what the registry's scanner found in the pushed image: ECR (basic
 * scanning, and enhanced scanning through Amazon Inspector) in AWS and in the sandbox's ECR stand-in,
 * both through shared/adapters/aws/ecr-scan-findings.ts.
 */
import type { Release } from '../contracts/tasks.js';
import type { ScanReport } from '../domain/scan-verdict.js';

/**
 * The scan of the release's image (its digest in its repository). Throws only when the registry
 * could not be asked (the task's retry and Catch handle that); a scan not there yet is `pending`.
 */
export type ScanFindingsSource = (release: Release) => Promise<ScanReport>;
