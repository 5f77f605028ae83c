/**
 * The run records table's shape, in one place: the CDK construct and the local DynamoDB create it
 * with these names, and the adapter writes them. One item per execution:
 *   partition key `app`, sort key `execution`;
 *   local secondary index `by-end` (sort key `endedAt`), sparse: a record enters it once sealed,
 *   so "an app's runs that ended in a window" is one Query and a running run is never read;
 *   TTL `expiresAt` (epoch seconds).
 */

export const RUN_RECORDS_PARTITION_KEY = 'app';
export const RUN_RECORDS_SORT_KEY = 'execution';
export const RUN_RECORDS_END_INDEX = 'by-end';
export const RUN_RECORDS_END_KEY = 'endedAt';
export const RUN_RECORDS_TTL_ATTRIBUTE = 'expiresAt';

/** How long a record is kept: a year of figures, and the window before it for incidents spanning its edge. */
export const RUN_RECORD_RETENTION_SECONDS = 400 * 86_400;
