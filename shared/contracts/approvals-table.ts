/**
 * The approvals table's shape, in one place: the CDK construct creates the table with it, the local
 * DynamoDB (local/dynamodb) creates its table with it, and the DynamoDB adapters write these names.
 */

/** The only key: a string partition key; items are `approval#…`, `thread#…`, `release#…` and so on. */
export const APPROVALS_PARTITION_KEY = 'pk';

/** Epoch seconds after which DynamoDB may delete an item (TTL); release claims have none. */
export const APPROVALS_TTL_ATTRIBUTE = 'expiresAt';
