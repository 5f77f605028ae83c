/**
 * ECR as the handlers read it (request-approval's image facts, the sweep's listing; later the scan
 * gate and the image's OCI labels): one client per function, the SDK's default attempts and
 * timeouts. Built here for Lambda (the function's own account and region) and for a local run (the
 * sandbox's ECR stand-in), so both get the same settings.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import type { AwsAccess } from './aws.js';

export function ecrClient(access: AwsAccess = {}): ECRClient {
  return new ECRClient({ ...access });
}
