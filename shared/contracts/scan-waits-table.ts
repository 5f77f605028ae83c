/**
 * The scan waits table's shape, in one place: the CDK construct and the local DynamoDB create it with
 * these names, and the adapter (shared/adapters/aws/scan-waits-table.ts) writes them. One item per
 * image, partition key `image` (`<repository>@<digest>`), TTL `expiresAt` (epoch seconds). Its own
 * table, not the approvals table, so that only scan-events can reach these task tokens: notify and
 * request-approval may read any item of the approvals table.
 */
export const SCAN_WAITS_PARTITION_KEY = 'image';
export const SCAN_WAITS_TTL_ATTRIBUTE = 'expiresAt';
